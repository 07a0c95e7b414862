"""The loopback OCM server's ``POST /v3/mediaitem``: the real server's auth rules, body and answers.

From openchargemap/ocm-system: ``CompatibilityAPIHandler`` (the same user rules as ``/comment``),
``JSONInputProvider.ProcessMediaItemSubmission`` (``MediaItemSubmission``: ChargePointID, Comment,
ImageDataBase64, a data URL prefix cut at the comma) and ``MediaItemManager.AddPOIMediaItem``
(unknown POI or an image that does not decode: the submission fails, 400 "Failed").
"""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.fakes.test_ocm_server import sign_in

# A 1x1 PNG and the first bytes of a JPEG: enough for OCM's image library to recognise each.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def data_url(image: bytes, media_type: str = "image/jpeg") -> str:
    return f"data:{media_type};base64," + base64.b64encode(image).decode()


@pytest.fixture
def client(ocm_server):
    headers = {"X-API-Key": ocm_server.api_key, "User-Agent": "ocm-bot-tests/1"}
    with httpx.Client(base_url=ocm_server.url, headers=headers, timeout=10) as http:
        yield http


@pytest.fixture
def token(client, ocm_server) -> str:
    ocm_server.register_user("ann@example.org", "s3cret", username="Ann")
    return sign_in(client, "ann@example.org", "s3cret").json()["Data"]["access_token"]


def post(client, body, token=None, **options):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/mediaitem", json=body, headers=headers, **options)


def test_a_photo_is_stored_on_the_poi_with_its_caption_and_user(client, ocm_server, token):
    r = post(
        client, {"ChargePointID": 100627, "Comment": "The <b>CCS</b> bay", "ImageDataBase64": data_url(JPEG)}, token
    )
    assert (r.status_code, r.json()) == (200, {"status": "OK", "description": "OK"})
    [stored] = ocm_server.media_items
    assert (stored.poi_id, stored.username, stored.via, stored.image) == (100627, "Ann", "token", JPEG)
    assert (stored.comment, stored.media_type) == ("The <b>CCS</b> bay", "image/jpeg")
    poi = client.get("/poi", params={"chargepointid": 100627, "includecomments": "true"}).json()[0]
    newest = poi["MediaItems"][0]
    assert newest["Comment"] == "The <b>CCS</b> bay" and newest["User"]["Username"] == "Ann"
    assert newest["ItemURL"].endswith(".jpg") and newest["IsEnabled"] is True
    plain = client.get("/poi", params={"chargepointid": 100627}).json()[0]
    assert plain.get("MediaItems") is None


def test_field_names_are_case_insensitive_and_a_bare_base64_image_is_taken(client, ocm_server, token):
    body = {"chargePointID": 52224, "imageDataBase64": base64.b64encode(PNG).decode()}
    assert post(client, body, token).status_code == 200
    assert ocm_server.media_items[0].comment is None and ocm_server.media_items[0].media_type is None


def test_with_a_write_key_the_photo_is_credited_to_the_key_s_user(client, ocm_server):
    key = ocm_server.add_write_key(username="ocm-bot")
    r = client.post(
        "/mediaitem", json={"ChargePointID": 52224, "ImageDataBase64": data_url(PNG)}, params={"apikey": key}
    )
    assert r.status_code == 200 and ocm_server.media_items[0].username == "ocm-bot"


def test_without_a_user_401_empty_and_a_malformed_token_200_empty(client, ocm_server):
    body = {"ChargePointID": 100627, "ImageDataBase64": data_url(JPEG)}
    anonymous = post(client, body)
    assert (anonymous.status_code, anonymous.content) == (401, b"")
    malformed = post(client, body, token="not-a-jwt")
    assert (malformed.status_code, malformed.content) == (200, b"")
    assert ocm_server.media_items == []


@pytest.mark.parametrize(
    "body",
    [
        {"ChargePointID": 100627},  # no image
        {"ChargePointID": 1, "ImageDataBase64": data_url(JPEG)},  # no such POI
        {"ChargePointID": 100627, "ImageDataBase64": data_url(b"%PDF-1.7 not an image", "application/pdf")},
        {"ChargePointID": 100627, "ImageDataBase64": "data:image/jpeg;base64,@@not base64@@"},
        "[1, 2]",
    ],
    ids=["no-image", "unknown-poi", "pdf", "bad-base64", "not-an-object"],
)
def test_anything_ocm_cannot_store_is_400_failed(client, ocm_server, token, body):
    r = post(client, body, token)
    assert (r.status_code, r.json()) == (400, {"status": "error", "description": "Failed"})
    assert ocm_server.media_items == []


def test_unreadable_json_is_400_failed_unlike_a_comment(client, ocm_server, token):
    r = client.post("/mediaitem", content=b"{not json", headers={"Authorization": f"Bearer {token}"})
    assert (r.status_code, r.json()) == (400, {"status": "error", "description": "Failed"})


def test_read_only_and_the_edge_come_first(client, ocm_server, token):
    ocm_server.read_only = True
    r = post(client, {"ChargePointID": 100627, "ImageDataBase64": data_url(JPEG)}, token)
    assert r.status_code == 400 and "read only" in r.json()["description"]
    keyless = httpx.post(f"{ocm_server.url}/mediaitem", json={}, timeout=10)
    assert keyless.status_code == 403
