"""Fake Open Charge Map API v3 on loopback (see tests/fakes/README-servers.md)."""

from .loopback import LoopbackServer, RecordedRequest, Response
from .server import FakeOcmServer, FakeUser, StoredComment
from .store import GENERATED_ID_BASE, GENERATED_PROVIDER_ID, haversine_km, shared_dir

__all__ = [
    "GENERATED_ID_BASE",
    "GENERATED_PROVIDER_ID",
    "FakeOcmServer",
    "FakeUser",
    "LoopbackServer",
    "RecordedRequest",
    "Response",
    "StoredComment",
    "haversine_km",
    "shared_dir",
]
