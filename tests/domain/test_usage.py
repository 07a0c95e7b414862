"""What a driver's usage choice means for OCM's usage types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocm_bot.domain.preferences import UsageChoice
from ocm_bot.domain.usage import KNOWN_USAGE_CLASSES, usage_class, usage_type_ids
from ocm_bot.ocm.reference import ReferenceData

REFERENCE_FILE = Path(__file__).resolve().parents[3] / "shared" / "ocm" / "referencedata.json"


@pytest.fixture(scope="module")
def reference() -> ReferenceData:
    return ReferenceData.from_json(json.loads(REFERENCE_FILE.read_text()))


def test_public_only_means_public_pay_at_location_notice_required_and_unknown(reference):
    assert usage_type_ids(UsageChoice.PUBLIC_ONLY, reference.usage_types) == {0, 1, 5, 7}
    assert usage_type_ids(UsageChoice.PUBLIC_ONLY) == {0, 1, 5, 7}


def test_including_membership_adds_membership_required(reference):
    assert usage_type_ids(UsageChoice.INCLUDE_MEMBERSHIP, reference.usage_types) == {0, 1, 4, 5, 7}
    assert usage_type_ids(UsageChoice.INCLUDE_MEMBERSHIP) == {0, 1, 4, 5, 7}


def test_including_restricted_means_no_usage_filter(reference):
    assert usage_type_ids(UsageChoice.INCLUDE_RESTRICTED, reference.usage_types) is None


def test_the_reference_data_classification_agrees_with_the_built_in_table(reference):
    for usage_id, usage in reference.usage_types.items():
        assert usage_class(usage) is KNOWN_USAGE_CLASSES[usage_id], usage.title
