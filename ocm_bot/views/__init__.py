"""Views: message text, inline keyboards and callback data, as pure functions of domain objects."""
