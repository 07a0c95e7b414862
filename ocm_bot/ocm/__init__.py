"""Everything that talks to Open Charge Map: HTTP client, typed models, reference data, errors."""
