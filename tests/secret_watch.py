"""No secret reaches a log or a terminal: the whole suite's log records and every process's output are scanned.

A pytest plugin (listed in tests/conftest.py). The secrets the tests use are registered where they are
made: the fake Bot API's token, the e2e settings' STORAGE_SECRET, the fake OCM's API key and every write
key, password and access token it hands out, the webhook secrets and database passwords of the process
tests. A handler on the root logger (with our own loggers at DEBUG, the most an operator can ask for)
looks for them in every record, its traceback included; ``scan_output`` does the same for what a spawned
``ocm-bot`` process printed (tests/e2e/fixtures.py and installed.py call it). A test during which a
secret showed up fails at teardown, naming where it was seen (never the secret itself).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

SECRETS: set[str] = set()
_seen: list[str] = []


def register(*values: str | None) -> None:
    """Watch for ``values`` from now on (values under 6 characters would match ordinary text);
    for a URL with a password (a ``DATABASE_URL``), for the password too."""
    for value in values:
        if value and "://" in value and urlsplit(value).password:
            register(urlsplit(value).password)
    SECRETS.update(value for value in values if value and len(value) >= 6)


def leaks_in(text: str) -> list[str]:
    """Which registered secrets ``text`` contains, as names safe to print."""
    return [f"a secret of {len(secret)} characters starting {secret[:2]!r}" for secret in SECRETS if secret in text]


def scan_output(text: str, where: str) -> None:
    """Record every registered secret in a process's output."""
    _seen.extend(f"{where}: {leak}" for leak in leaks_in(text))


class _SecretWatch(logging.Handler):
    _traceback = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is not ours to judge here
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + self._traceback.formatException(record.exc_info)
        _seen.extend(f"log record of {record.name} ({record.levelname}): {leak}" for leak in leaks_in(text))


# What the tests use as secrets without a fixture that makes them (the process and CLI tests' database
# passwords; the sign-in tests' passwords are registered by the fake OCM when it creates the account).
register("Pg-Secret-Pass-42", "hook-secret_1")


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger().addHandler(_SecretWatch(logging.DEBUG))
    logging.getLogger("ocm_bot").setLevel(logging.DEBUG)


@pytest.fixture(autouse=True)
def no_secret_in_logs_or_output() -> Iterator[None]:
    """Fails the test during which a registered secret was logged or printed."""
    del _seen[:]
    yield
    if _seen:
        found, _seen[:] = list(_seen), []
        pytest.fail("a secret reached a log or a terminal:\n  " + "\n  ".join(found), pytrace=False)
