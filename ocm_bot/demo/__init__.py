"""The offline demo: a terminal chat with the real application on bundled data."""
