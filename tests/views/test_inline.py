"""Inline and guest answers: venue results, the card a chosen one posts, the guest's one message."""

from dataclasses import replace
from datetime import UTC, datetime

from ocm_bot.domain.geo import GeoPoint
from ocm_bot.domain.preferences import UserPreferences
from ocm_bot.domain.search import Hit, SearchResult
from ocm_bot.i18n import translator
from ocm_bot.views.inline import guest_results_article, venue_results
from tests.domain.samples import by_id, sample_chargers

t = translator("en")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
LIDL = 100627


def result_of(chargers, label="Garforth") -> SearchResult:
    hits = tuple(Hit(c, 0.5 + n, 45.0) for n, c in enumerate(chargers))
    return SearchResult("r1", GeoPoint(53.79, -1.38), label, 10.0, UserPreferences(), hits)


def test_a_venue_result_names_the_charger_and_posts_its_card_escaped():
    nasty = replace(by_id(LIDL), address=replace(by_id(LIDL).address, title="Lidl <b>&</b> Co"))
    (venue,), next_offset = venue_results(t, result_of([nasty]), 0, bot_username="ocm_test_bot", now=NOW)
    assert venue.title == "Lidl <b>&</b> Co"  # plain text in the popup
    assert "50 kW" in venue.address and "<" not in venue.address and "&amp;" not in venue.address
    text = venue.input_message_content.message_text
    assert "Lidl &lt;b&gt;&amp;&lt;/b&gt; Co" in text and "📍 500 m from Garforth" in text
    urls = [b.url for row in venue.reply_markup.inline_keyboard for b in row]
    assert urls == [
        f"https://openchargemap.org/site/poi/details/{LIDL}",
        f"https://t.me/ocm_test_bot?start=charger_{LIDL}",
    ]
    assert next_offset == ""


def test_venue_results_come_in_pages_of_ten():
    chargers = list(sample_chargers())[:25]
    first, offset = venue_results(t, result_of(chargers), 0, bot_username="b", now=NOW)
    last, end = venue_results(t, result_of(chargers), 2, bot_username="b", now=NOW)
    assert (len(first), offset, len(last), end) == (10, "1", 5, "")


def test_a_guest_answer_lists_the_nearest_five_with_their_buttons():
    chargers = list(sample_chargers())[:8]
    article = guest_results_article(t, result_of(chargers), bot_username="b", now=NOW)
    text = article.input_message_content.message_text
    assert text.startswith("<b>Chargers near Garforth</b>") and "5. " in text and "6. " not in text
    assert len(article.reply_markup.inline_keyboard) == 5
