"""Shared pytest set-up: every fake server's fixtures are plugins, usable by any test."""

pytest_plugins = [
    "tests.secret_watch",
    "tests.fakes.telegram.fixtures",
    "tests.fakes.ocm_fixtures",
    "tests.fakes.geo_fixtures",
    "tests.storage.fixtures",
    "tests.e2e.fixtures",
    "tests.e2e.installed",
]
