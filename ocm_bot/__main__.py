"""``python -m ocm_bot`` does what the ``ocm-bot`` command does."""

import sys

from ocm_bot.cli import main

sys.exit(main())
