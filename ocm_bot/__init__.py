"""ocm-bot: a Telegram bot that helps EV drivers find, judge and report charging stations."""

__version__ = "0.1.0"
