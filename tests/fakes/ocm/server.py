"""A fake Open Charge Map API v3 on loopback, with OCM's real answers, auth rules and quirks.

    server = FakeOcmServer().start()
    httpx.get(f"{server.url}/poi", params={"latitude": 45.5122, "longitude": -122.6587,
              "distance": 5, "distanceunit": "km", "compact": "true", "verbose": "false"},
              headers={"X-API-Key": server.api_key, "User-Agent": "ocm-bot-tests/1.0"})
    server.generate_chargers(5000, center=(51.52, -0.03), radius_km=10, seed=1)
    server.inject("hang", path_prefix="/v3/poi")
    server.register_user("ann@example.org", "s3cret", username="Ann")
    server.register_user("sam@example.org", None)  # social login: sign-in answers 200, no body
    server.inject("empty-list")  # 200 [] as while OCM's cache rebuilds ("partial": every other POI)
    server.stop()

What the real server does and where the fake differs: tests/fakes/README-servers.md.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from tests import secret_watch

from .loopback import COMMON_FAULTS, Fault, LoopbackServer, RecordedRequest, Response
from .query import PoiQuery, parse_query, run_search
from .store import PoiStore, ReferenceData, camelise, format_ocm_date, strip_nulls, utc_now

MISSING_KEY = "You must specify an API key using the key query parameter or x-api-key header."
INVALID_KEY = "Invalid API key."
ROBOTS = "API requests by robots are temporarily disabled."
READ_ONLY = "API is read only. Submissions not currently being accepted."
GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")
ROBOT_MARKERS = (
    "robot", "crawler", "spider", "slurp", "googlebot", "kml-google", "apache-httpclient",
    "okhttp/3.9.1", "dart:io",
)  # fmt: skip
CONTENT_TYPES = {
    "json": "application/json",
    "geojson": "application/geo+json",
    "xml": "text/xml",
    "csv": "text/csv; header=present; charset=UTF-8;",
    "kml": "application/vnd.google-earth.kml+xml",
}
TOKEN_LIFETIME_S = 3600 * 24


MAX_REQUEST_LINE = 8192  # bytes of the request line (shared/README.md: "over about 8 KB are refused")


@dataclass
class FakeUser:
    id: int
    email: str
    password: str | None  # None: a social-login account (Google, GitHub...) without a password
    username: str
    session_nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    reputation: int = 10

    def profile(self) -> dict[str, Any]:
        email_hash = hashlib.md5(self.email.lower().encode()).hexdigest()
        return {
            "ID": self.id,
            "Username": self.username,
            "Profile": None,
            "Location": None,
            "WebsiteURL": None,
            "ReputationPoints": self.reputation,
            "Permissions": None,
            "DateCreated": "2024-01-01T00:00:00",
            "DateLastLogin": format_ocm_date(utc_now())[:-1],
            "IsProfilePublic": True,
            "Latitude": None,
            "Longitude": None,
            "EmailAddress": self.email,
            "EmailHash": None,
            "ProfileImageURL": f"https://www.gravatar.com/avatar/{email_hash}?s=80&d=robohash",
        }


@dataclass
class StoredComment:
    """A comment the fake accepted, for assertions (``server.comments``)."""

    poi_id: int
    user_id: int
    username: str
    via: str  # "token" or "write-key"
    body: dict[str, Any]
    stored: dict[str, Any]

    @property
    def rating(self) -> int | None:
        return self.stored.get("Rating")

    @property
    def comment(self) -> str | None:
        return self.stored.get("Comment")

    @property
    def checkin_status_type_id(self) -> int | None:
        return self.stored.get("CheckinStatusTypeID")

    @property
    def comment_type_id(self) -> int | None:
        return self.stored.get("CommentTypeID")


@dataclass
class StoredMediaItem:
    """A photo the fake accepted (``server.media_items``)."""

    poi_id: int
    user_id: int
    username: str
    via: str  # "token" or "write-key"
    comment: str | None
    image: bytes
    media_type: str | None  # from the data URL prefix, None when there was none
    stored: dict[str, Any]


class FakeOcmServer(LoopbackServer):
    """Open Charge Map API v3 (``/v3/poi``, ``/v3/referencedata``, ``/v3/comment``, ``/v3/profile/authenticate``)."""

    fault_kinds = COMMON_FAULTS | {"validation-failed", "robot", "empty-list", "partial"}
    default_fault_prefix = "/v3/poi"

    def __init__(self, *, api_key: str | None = None, load_samples: bool = True) -> None:
        super().__init__()
        self.api_key = (api_key or str(uuid.uuid4())).lower()
        secret_watch.register(self.api_key)
        self._load_samples = load_samples
        self.ref = ReferenceData.load()
        self.store = PoiStore(self.ref)
        self._baseline: PoiStore | None = None
        self.api_keys: set[str] = set()
        self.write_keys: set[str] = set()
        self.users: dict[str, FakeUser] = {}  # by lower-cased e-mail address
        self._app_users: dict[str, FakeUser] = {}  # by write-enabled application key
        self.comments: list[StoredComment] = []
        self.media_items: list[StoredMediaItem] = []
        self._next_media_id = 900_000
        self.read_only = False
        self._secret = secrets.token_bytes(32)
        self._next_user_id = 100_000
        self._reset_state()

    # ------------------------------------------------------------------ state
    @property
    def url(self) -> str:
        return f"{self.root_url}/v3"

    def _reset_state(self) -> None:
        with self.store.lock:
            if self._baseline is None:
                if self._load_samples:
                    self.store.load_shared_samples()
                self._baseline = self.store.snapshot()
            else:
                self.store.restore(self._baseline)
        self.api_keys = {self.api_key.lower()}
        self.write_keys = set()
        self.users = {}
        self._app_users = {}
        self.comments = []
        self.media_items = []
        self.read_only = False
        self._secret = secrets.token_bytes(32)

    def reset(self) -> None:
        """Back to the shared sample POIs, no users/comments/extra keys, no faults, empty log."""
        super().reset()
        self._reset_state()

    # ------------------------------------------------------------------ data API
    def add_pois(self, pois: list[dict[str, Any]]) -> list[int]:
        """Add (or merge into) POIs given in any OCM shape; returns their IDs."""
        return self.store.add(pois)

    def generate_chargers(
        self,
        n: int,
        center: tuple[float, float],
        radius_km: float = 5.0,
        seed: int | None = 0,
        country_id: int | None = None,
        stamp_now: bool = False,
    ) -> list[int]:
        """Add ``n`` synthetic chargers (IDs 90_000_001+, provider "generated test data").

        Their dates are in 2016-2024 unless ``stamp_now``, which makes them created and updated now
        (what a ``modifiedsince`` poll for new chargers should find)."""
        return self.store.generate(n, center, radius_km, seed, country_id, stamp_now)

    def modify_poi(self, poi_id: int, **changes: Any) -> dict[str, Any]:
        """Change top-level fields (``AddressInfo={...}`` merges); bumps DateLastStatusUpdate to now."""
        return self.store.modify(poi_id, changes)

    def remove_poi(self, poi_id: int) -> None:
        self.store.remove(poi_id)

    def serve_without_coordinates(self, poi_id: int) -> None:
        """Keep finding the POI by location but serve it with null ``Latitude``/``Longitude``: a
        record a client cannot use, still counted against ``maxresults`` (until ``reset()``)."""
        self.store.serve_without_coordinates(poi_id)

    def poi(self, poi_id: int) -> dict[str, Any]:
        """The stored full (verbose) record."""
        return self.store.records[poi_id]

    def register_user(self, email: str, password: str | None, username: str | None = None) -> FakeUser:
        """An OCM account; ``password=None`` is one made with a social login (no password set)."""
        self._next_user_id += 1
        secret_watch.register(password)
        user = FakeUser(self._next_user_id, email, password, username or email.split("@")[0])
        self.users[email.lower()] = user
        return user

    def add_write_key(self, key: str | None = None, username: str = "ocm-bot") -> str:
        """A write-enabled key standing for a user named ``username`` (OCM's ``apikey`` parameter).

        Like on the real server it is not an application's primary key: the edge refuses it in
        ``X-API-Key``/``key=``, so a client sends its primary key there and this one as ``apikey=``.
        """
        key = (key or str(uuid.uuid4())).lower()
        secret_watch.register(key)
        self.write_keys.add(key)
        self._next_user_id += 1
        self._app_users[key] = FakeUser(self._next_user_id, f"app-{self._next_user_id}@example.invalid", "", username)
        return key

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (later calls with them get 401)."""
        for user in self.users.values():
            user.session_nonce = secrets.token_hex(8)

    def token_for(self, email: str) -> str:
        return self._issue_token(self.users[email.lower()])

    # ------------------------------------------------------------------ faults
    def fault_response(self, fault: Fault, request: RecordedRequest) -> Response | None:
        if fault.kind == "validation-failed":
            return Response.text("Error: Validation Failed", 200)
        if fault.kind == "robot":
            return _error(ROBOTS, 503)
        if fault.kind in ("empty-list", "partial"):
            # OCM's cache rebuilding (or a cache-only mirror): an ordinary 200 answer with none,
            # or only some, of the POIs that match. The API key is still checked first.
            refused = self._refused_at_edge(request)
            if refused is not None:
                return refused
            if _is_robot(request.headers.get("User-Agent") or ""):
                return _error(ROBOTS, 503)
            return self._get_poi(request, keep_every=0 if fault.kind == "empty-list" else 2)
        return super().fault_response(fault, request)

    # ------------------------------------------------------------------ dispatch
    def dispatch(self, request: RecordedRequest) -> Response:
        path = request.path.lower()
        # "GET <target> HTTP/1.1": the real server's host refuses a request line over 8 KB, no body.
        if len(request.method) + len(request.path) + len(request.query) + len("  HTTP/1.1?") > MAX_REQUEST_LINE:
            return Response(414, b"", None)
        if request.method == "OPTIONS":
            return Response(200, b"", None, {"Allow": "GET, HEAD, POST, OPTIONS"})
        if not path.startswith("/v3/"):
            return Response.text("Not Found", 404, "text/plain")
        refused = self._refused_at_edge(request)
        if refused is not None:
            return refused
        if request.method == "POST" and not path.startswith("/v3/profile/"):
            return self._post_input(request, path)
        if _is_robot(request.headers.get("User-Agent") or ""):
            return _error(ROBOTS, 503)
        if path.startswith("/v3/poi"):
            return self._get_poi(request)
        if path.startswith("/v3/referencedata"):
            return self._get_reference_data(request)
        if path.startswith("/v3/profile/authenticate"):
            return self._authenticate(request)
        return Response.text("Not Found", 404, "text/plain")

    def _refused_at_edge(self, request: RecordedRequest) -> Response | None:
        """The edge admits an application's primary key only (``key=``, else ``X-API-Key``)."""
        key = self._api_key_of(request)
        if key is None:
            return Response.text(MISSING_KEY, 403, "text/plain;charset=UTF-8")
        if not GUID.match(key) or key.strip("{}") not in self.api_keys:
            return Response.text(INVALID_KEY, 403, "text/plain;charset=UTF-8")
        return None

    @staticmethod
    def _api_key_of(request: RecordedRequest) -> str | None:
        from_query = request.raw_params.get("key")
        key = (from_query if from_query is not None else request.headers.get("X-API-Key", "")).strip()
        if not key or key in ("test", "null"):
            return None
        return key.lower()

    # ------------------------------------------------------------------ GET /poi
    def _get_poi(self, request: RecordedRequest, keep_every: int = 1) -> Response:
        """The search; ``keep_every`` n-th hit only (0: none), as a half-rebuilt cache answers."""
        q = parse_query(request.params, self.ref.countries_by_iso)
        with self.store.lock:
            hits = run_search(self.store, q)
            hits = hits[::keep_every] if keep_every else []
            if q.output == "json":
                body = self._poi_json(hits, q)
                if q.callback:
                    body = q.callback.encode() + b"(" + body + b")"
                return Response(200, body, CONTENT_TYPES["json"], _CORS)
            pois = [self._poi_dict(poi_id, distance, q) for poi_id, distance in hits]
        return self._output(pois, q.output, q.compact, q.callback)

    def _poi_json(self, hits: list[tuple[int, float | None]], q: PoiQuery) -> bytes:
        """The JSON answer spliced from per-POI pre-serialised pieces (the fast path)."""
        indent = not q.compact
        names = ("distance", "distanceUnit") if q.camelcase else ("Distance", "DistanceUnit")
        unit = 1 if q.distance_unit_km else 2
        colon = ": " if indent else ":"
        parts = []
        for poi_id, distance in hits:
            before, indentation, after = self.store.shaped_json(poi_id, q.shape, indent)
            separator = b",\n" + indentation if indent else b","
            if distance is not None:
                fields = [f'"{names[0]}"{colon}{distance!r}', f'"{names[1]}"{colon}{unit}']
            elif q.verbose:
                fields = [f'"{names[0]}"{colon}null', f'"{names[1]}"{colon}0']
            else:
                fields = [f'"{names[1]}"{colon}0']
            parts.append(before + separator.join(f.encode() for f in fields) + after)
        if not parts:
            return b"[]"
        if indent:
            return b"[\n" + b",\n".join(parts) + b"\n]"
        return b"[" + b",".join(parts) + b"]"

    def _poi_dict(self, poi_id: int, distance: float | None, q: PoiQuery) -> dict[str, Any]:
        shaped = self.store.shaped(poi_id, q.shape)
        distance_key, unit_key = ("distance", "distanceUnit") if q.camelcase else ("Distance", "DistanceUnit")
        address_key = "addressInfo" if q.camelcase else "AddressInfo"
        out = dict(shaped)
        address = dict(shaped[address_key])
        if distance is not None:
            address[distance_key] = distance
            address[unit_key] = 1 if q.distance_unit_km else 2
        else:
            if q.verbose:
                address[distance_key] = None
            address[unit_key] = 0
        out[address_key] = address
        return out

    def _output(self, pois: list[dict[str, Any]], output: str, compact: bool, callback: str | None) -> Response:
        if output == "geojson":
            return Response(200, _json_bytes(_geojson(pois), indent=not compact), CONTENT_TYPES["geojson"], _CORS)
        if output == "csv":
            return Response(200, _csv(pois).encode(), CONTENT_TYPES["csv"], _CORS)
        if output == "kml":
            return Response(200, _kml(pois).encode(), CONTENT_TYPES["kml"], _CORS)
        return Response(200, _xml(pois).encode(), CONTENT_TYPES["xml"], _CORS)  # OCM's fallback is XML

    # ------------------------------------------------------------------ GET /referencedata
    def _get_reference_data(self, request: RecordedRequest) -> Response:
        q = parse_query(request.params, self.ref.countries_by_iso)
        document: Any = self.ref.document
        if not q.verbose:
            document = strip_nulls(document)
        if q.camelcase:
            document = camelise(document)
        body = _json_bytes(document, indent=not q.compact)
        if q.callback:
            body = q.callback.encode() + b"(" + body + b")"
        return Response(200, body, CONTENT_TYPES["json"], _CORS)

    # ------------------------------------------------------------------ POST /profile/authenticate
    def _authenticate(self, request: RecordedRequest) -> Response:
        try:
            login = json.loads(request.body or b"null")
        except ValueError:
            # The real handler throws inside its middleware, which logs and ends the response: 200, no body.
            return Response(200, b"", None)
        if not isinstance(login, dict):
            return Response(401, b"", None)
        fields = {k.lower(): v for k, v in login.items()}
        email, password = fields.get("emailaddress"), fields.get("password")
        user = self.users.get(str(email).lower()) if isinstance(email, str) else None
        if user is not None and user.password is None:
            # Checking a password against an account that has none throws; the middleware
            # swallows it: 200 with an empty body, whatever password was sent.
            return Response(200, b"", None)
        if user is None or not isinstance(password, str) or password != user.password:
            return Response(401, b"", None)
        envelope = {
            "Data": {"UserProfile": user.profile(), "access_token": self._issue_token(user)},
            "Metadata": {"StatusCode": 200},
        }
        return Response(200, _json_bytes(envelope, indent=True), CONTENT_TYPES["json"], _CORS)

    def _issue_token(self, user: FakeUser) -> str:
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        now = int(time.time())
        claims = {"UserID": str(user.id), "nonce": user.session_nonce, "iat": now, "exp": now + TOKEN_LIFETIME_S}
        payload = _b64(json.dumps(claims).encode())
        signature = hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        token = f"{header}.{payload}.{_b64(signature)}"
        secret_watch.register(token)
        return token

    def _user_from_token(self, token: str) -> FakeUser | None:
        """The token's user; None when refused (401). Raises MalformedToken when it is no JWT."""
        claims = _jwt_claims(token)
        header, payload, signature = token.split(".")
        expected = hmac.new(self._secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(_b64(expected), signature):
            return None
        if claims.get("exp", 0) < time.time():
            return None
        for user in self.users.values():
            if str(user.id) == claims.get("UserID") and user.session_nonce == claims.get("nonce"):
                return user
        return None

    # ------------------------------------------------------------------ POST /comment
    def _post_input(self, request: RecordedRequest, path: str) -> Response:
        if self.read_only:
            return _error(READ_ONLY, 400)
        try:
            user, via = self._submitting_user(request)
        except MalformedToken:
            # The JWT handler throws on a token it cannot read; the middleware swallows it.
            return Response(200, b"", None)
        if user is None:
            return Response(401, b"", None)
        if path.startswith("/v3/mediaitem"):
            return self._post_media_item(request, user, via)
        if not path.startswith("/v3/comment"):
            return _error("Failed", 400)  # POI edits are not faked
        parsed = _parse_comment(request.body)
        if parsed is None:
            return Response.text("Error: Validation Failed", 200)
        poi_id = parsed.get("ChargePointID") or 0
        with self.store.lock:
            if poi_id not in self.store.records or not self._comment_storable(parsed):
                return _error("Failed", 400)
            comment = {
                "CommentTypeID": parsed.get("CommentTypeID") or 10,
                "UserName": user.username,
                "Comment": parsed.get("Comment"),
                "Rating": parsed.get("Rating"),
                "RelatedURL": parsed.get("RelatedURL"),
                "DateCreated": utc_now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "User": {"ID": user.id, "Username": user.username, "ReputationPoints": user.reputation},
                "CheckinStatusTypeID": parsed.get("CheckinStatusTypeID"),
            }
            stored = self.store.add_comment(poi_id, comment)
        user.reputation += 1
        self.comments.append(StoredComment(poi_id, user.id, user.username, via, parsed, stored))
        return Response(200, b'{"status":"OK","description":"OK"}', None)

    # ------------------------------------------------------------------ POST /mediaitem
    def _post_media_item(self, request: RecordedRequest, user: FakeUser, via: str) -> Response:
        """OCM's JSONInputProvider + MediaItemManager: any failure (unreadable body, no image, an
        image it cannot decode, unknown POI) is caught and answered 400 "Failed"."""
        parsed = _parse_media_item(request.body)
        if parsed is None:
            return _error("Failed", 400)
        poi_id, comment, image, media_type = parsed
        if image_format(image) is None:
            return _error("Failed", 400)  # ImageSharp cannot load it: the upload fails
        with self.store.lock:
            if poi_id not in self.store.records:
                return _error("Failed", 400)
            self._next_media_id += 1
            stamp = utc_now()
            base = f"https://ocm.example.org/images/OCM{poi_id}/OCM-{poi_id}.{stamp.strftime('%Y%m%d%H%M%S%f')}"
            item = {
                "ID": self._next_media_id,
                "ChargePointID": poi_id,
                "ItemURL": f"{base}.orig.{image_format(image)}",
                "ItemThumbnailURL": f"{base}.thmb.{image_format(image)}",
                "Comment": comment,
                "IsEnabled": True,
                "IsVideo": False,
                "IsFeaturedItem": False,
                "IsExternalResource": False,
                "MetadataValue": None,
                "User": {"ID": user.id, "Username": user.username, "ReputationPoints": user.reputation},
                "DateCreated": stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            }
            self.store.add_media_item(poi_id, item)
        user.reputation += 1
        self.media_items.append(StoredMediaItem(poi_id, user.id, user.username, via, comment, image, media_type, item))
        return Response(200, b'{"status":"OK","description":"OK"}', None)

    def _submitting_user(self, request: RecordedRequest) -> tuple[FakeUser | None, str]:
        # As OCM's InputController: the user a key stands for is looked up from the ``apikey``
        # parameter first, then X-API-Key, and only then from a bearer token.
        app_key = (request.raw_params.get("apikey") or request.headers.get("X-API-Key") or "").strip().lower()
        if app_key in self.write_keys:
            return self._app_users.get(app_key), "write-key"
        auth = request.headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ") or request.raw_params.get("jwt-bearer")
        if not token:
            return None, ""
        return self._user_from_token(token.strip()), "token"

    def _comment_storable(self, parsed: dict[str, Any]) -> bool:
        """What the database would refuse (a failed save answers 400 "Failed")."""
        comment_type = parsed.get("CommentTypeID")
        if comment_type is not None and comment_type not in self.ref.by_id["UserCommentTypes"]:
            return False
        checkin = parsed.get("CheckinStatusTypeID")
        if checkin is not None and checkin not in self.ref.by_id["CheckinStatusTypes"]:
            return False
        rating = parsed.get("Rating")
        if rating is not None and not 1 <= rating <= 5:
            return False
        text = parsed.get("Comment")
        return text is None or len(text) <= 4000


_CORS = {"Access-Control-Allow-Origin": "*"}
_COMMENT_INT_FIELDS = ("ID", "ChargePointID", "CommentTypeID", "Rating", "CheckinStatusTypeID")
_COMMENT_TEXT_FIELDS = ("UserName", "Comment", "RelatedURL")


def _parse_comment(body: bytes) -> dict[str, Any] | None:
    """Json.NET's view of a UserComment body: case-insensitive names, lenient ints; None if it throws."""
    try:
        text = body.decode("utf-8").strip().replace("UserCommentTypeID", "CommentTypeID")
        raw = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    by_lower = {k.lower(): v for k, v in raw.items()}
    parsed: dict[str, Any] = {}
    for name in _COMMENT_INT_FIELDS:
        value = by_lower.get(name.lower())
        if value is None:
            parsed[name] = None
            continue
        number = _json_int(value)
        if number is _INVALID:
            return None
        parsed[name] = number
    for name in _COMMENT_TEXT_FIELDS:
        value = by_lower.get(name.lower())
        if isinstance(value, (dict, list)):
            return None
        parsed[name] = None if value is None else str(value) if not isinstance(value, bool) else str(value).lower()
    for name, id_name in (("CommentType", "CommentTypeID"), ("CheckinStatusType", "CheckinStatusTypeID")):
        nested = by_lower.get(name.lower())
        if isinstance(nested, dict) and parsed.get(id_name) is None:
            inner = _json_int({k.lower(): v for k, v in nested.items()}.get("id", 0))
            if inner is _INVALID:
                return None
            parsed[id_name] = inner
    if parsed["ChargePointID"] is None:
        parsed["ChargePointID"] = 0
    return parsed


_INVALID = object()
_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)


def image_format(data: bytes) -> str | None:
    """The image format OCM's ImageSharp would decode ``data`` as; None when it cannot."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return next((name for magic, name in _IMAGE_MAGIC if data.startswith(magic)), None)


def _parse_media_item(body: bytes) -> tuple[int, str | None, bytes, str | None] | None:
    """Json.NET's view of a MediaItemSubmission: (ChargePointID, Comment, image bytes, media type).

    None where OCM's handler throws or gives up: unreadable JSON, no ``ImageDataBase64``, bad base64.
    A data URL's prefix is cut at the first comma, as OCM does.
    """
    try:
        raw = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    by_lower = {k.lower(): v for k, v in raw.items()}
    poi_id = _json_int(by_lower.get("chargepointid", 0))
    data = by_lower.get("imagedatabase64")
    comment = by_lower.get("comment")
    if poi_id is _INVALID or not isinstance(data, str) or isinstance(comment, (dict, list)):
        return None
    media_type = None
    if data.startswith("data:"):
        media_type = data[5:].split(";", 1)[0].split(",", 1)[0] or None
        data = data[data.index(",") + 1 :] if "," in data else ""
    try:
        image = base64.b64decode(data, validate=True)
    except ValueError:
        return None
    return poi_id or 0, None if comment is None else str(comment), image, media_type


def _json_int(value: Any) -> Any:
    if isinstance(value, bool):
        return _INVALID
    if isinstance(value, int):
        return value if -(2**31) <= value < 2**31 else _INVALID
    if isinstance(value, float):
        return int(value) if value.is_integer() else _INVALID
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d+", text):
            return int(text)
        return None if text == "" else _INVALID
    return _INVALID


class MalformedToken(ValueError):
    """A bearer token that is not a JWT at all (OCM answers 200 with an empty body)."""


def _jwt_claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken(token)
    try:
        decoded = [json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in parts[:2]]
    except (ValueError, TypeError) as error:
        raise MalformedToken(token) from error
    if not all(isinstance(part, dict) for part in decoded):
        raise MalformedToken(token)
    return decoded[1]


def _is_robot(user_agent: str) -> bool:
    ua = user_agent.lower()
    return (
        any(marker in ua for marker in ROBOT_MARKERS)
        or ua == "apache"
        or ua.startswith("nameofagent")
        or ua.startswith("php")
    )


def _error(description: str, status: int) -> Response:
    body = json.dumps({"status": "error", "description": description}, separators=(",", ":")).encode()
    return Response(status, body, None)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _json_bytes(data: Any, *, indent: bool) -> bytes:
    if indent:
        return json.dumps(data, indent=2).encode()
    return json.dumps(data, separators=(",", ":")).encode()


def _field(poi: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in poi:
            return poi[name]
        lowered = name[0].lower() + name[1:]
        if lowered in poi:
            return poi[lowered]
    return None


def _address(poi: dict[str, Any]) -> dict[str, Any]:
    return _field(poi, "AddressInfo") or {}


def _geojson(pois: list[dict[str, Any]]) -> dict[str, Any]:
    features = []
    for poi in pois:
        address = _address(poi)
        lat = _field(address, "Latitude")
        lon = _field(address, "Longitude")
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": poi,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _csv(pois: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["ID", "LocationTitle", "AddressLine1", "Town", "StateOrProvince", "Postcode", "CountryID",
         "Latitude", "Longitude", "Distance", "DistanceUnit", "OperatorID", "UsageTypeID",
         "StatusTypeID", "NumberOfPoints", "DateLastStatusUpdate"]
    )  # fmt: skip
    for poi in pois:
        a = _address(poi)
        writer.writerow(
            [_field(poi, "ID"), _field(a, "Title"), _field(a, "AddressLine1"), _field(a, "Town"),
             _field(a, "StateOrProvince"), _field(a, "Postcode"), _field(a, "CountryID"),
             _field(a, "Latitude"), _field(a, "Longitude"), _field(a, "Distance"),
             _field(a, "DistanceUnit"), _field(poi, "OperatorID"), _field(poi, "UsageTypeID"),
             _field(poi, "StatusTypeID"), _field(poi, "NumberOfPoints"),
             _field(poi, "DateLastStatusUpdate")]
        )  # fmt: skip
    return out.getvalue()


def _kml(pois: list[dict[str, Any]]) -> str:
    marks = []
    for poi in pois:
        a = _address(poi)
        marks.append(
            f'<Placemark id="OCM-{_field(poi, "ID")}"><name>{escape(str(_field(a, "Title") or ""))}</name>'
            f"<Point><coordinates>{_field(a, 'Longitude')},{_field(a, 'Latitude')}</coordinates></Point>"
            "</Placemark>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>' + "".join(marks) + "</Document></kml>"
    )


def _xml(pois: list[dict[str, Any]]) -> str:
    items = []
    for poi in pois:
        a = _address(poi)
        items.append(
            f'<ChargePoint ID="{_field(poi, "ID")}"><AddressInfo>'
            f"<LocationTitle>{escape(str(_field(a, 'Title') or ''))}</LocationTitle>"
            f"<Latitude>{_field(a, 'Latitude')}</Latitude><Longitude>{_field(a, 'Longitude')}</Longitude>"
            "</AddressInfo></ChargePoint>"
        )
    return '<?xml version="1.0" encoding="utf-8"?><ChargePoints>' + "".join(items) + "</ChargePoints>"
