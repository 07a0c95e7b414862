"""Telegram handlers: parse the update, call the domain, send the view. One module per feature."""
