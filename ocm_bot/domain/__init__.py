"""Domain logic: search, filters, check-in, subscriptions. Knows neither Telegram nor HTTP."""
