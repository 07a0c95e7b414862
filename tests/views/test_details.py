"""The details view shows earlier check-ins in the driver's language."""

from datetime import UTC, datetime

from ocm_bot.i18n import translator
from ocm_bot.ocm.models import CheckinStatusType, Comment
from ocm_bot.views.details import comment_line

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def comment(status: CheckinStatusType) -> Comment:
    return Comment(id=1, checkin_status=status, rating=5, text="24/7", user_name="Nero", date_created=NOW)


def test_a_known_outcome_is_translated():
    line = comment_line(translator("de"), comment(CheckinStatusType(10, "Charged Successfully", True)), NOW)
    assert "Erfolgreich geladen" in line and "Charged Successfully" not in line


def test_an_outcome_the_bot_does_not_know_keeps_ocms_title():
    line = comment_line(translator("de"), comment(CheckinStatusType(4242, "Brand new <status>", None)), NOW)
    assert "Brand new &lt;status&gt;" in line
