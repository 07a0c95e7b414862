"""Pytest fixtures (filled in by the feature that owns this file)."""
