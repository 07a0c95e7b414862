"""Import path kept for convenience: the fake OCM server lives in the package tests/fakes/ocm/."""

from tests.fakes.ocm import GENERATED_ID_BASE, FakeOcmServer, RecordedRequest

__all__ = ["GENERATED_ID_BASE", "FakeOcmServer", "RecordedRequest"]
