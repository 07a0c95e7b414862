"""Telegram's HTML parse mode as the fake server applies it."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocm_bot.demo.formatting import EntityParseError, entities_to_html, parse_html, strip_edges


def test_tags_become_entities_with_utf16_offsets():
    parsed = parse_html('⚡ <b>Tesco</b> <a href="https://openchargemap.org/x">OCM</a>')

    assert parsed.text == "⚡ Tesco OCM"
    assert parsed.entities == [
        {"type": "bold", "offset": 2, "length": 5},
        {"type": "text_link", "url": "https://openchargemap.org/x", "offset": 8, "length": 3},
    ]


def test_emoji_outside_the_bmp_count_two_utf16_units():
    parsed = parse_html("🔌 <i>x</i>")

    assert parsed.entities == [{"type": "italic", "offset": 3, "length": 1}]


def test_entities_and_allowed_tags():
    parsed = parse_html(
        '&lt;&gt;&amp;&quot;&#39;&#x41; <tg-spoiler>s</tg-spoiler> <span class="tg-spoiler">t'
        '</span> <pre><code class="language-python">x</code></pre> <blockquote expandable>q'
        "</blockquote> <u>u</u><ins>i</ins><s>s</s><del>d</del><strike>k</strike><em>e</em>"
        "<strong>g</strong>"
    )

    assert parsed.text.startswith("<>&\"'A s t x q ")
    kinds = [e["type"] for e in parsed.entities]
    assert kinds[:4] == ["spoiler", "spoiler", "pre", "expandable_blockquote"]
    assert parsed.entities[2]["language"] == "python"
    assert parsed.warnings == []


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("a <br> b", 'Unsupported start tag "br" at byte offset 2'),
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("1 < 2", "Can't find end of the entity starting at byte offset 2"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("é<br>", 'Unsupported start tag "br" at byte offset 2'),
    ],
)
def test_invalid_html_fails_with_telegrams_words(source, error):
    with pytest.raises(EntityParseError) as raised:
        parse_html(source)

    assert str(raised.value) == error


def test_bare_ampersand_and_greater_than_are_shown_but_warned():
    parsed = parse_html("A&W -> B")

    assert parsed.text == "A&W -> B"
    assert len(parsed.warnings) == 2


def test_whitespace_around_the_text_is_trimmed_with_its_entities():
    parsed = strip_edges(parse_html("\n <b> hi </b>\n"))

    assert parsed.text == "hi"
    assert parsed.entities == [{"type": "bold", "offset": 0, "length": 2}]


@settings(max_examples=25, deadline=None)
@given(st.text(), st.text())
def test_escaped_text_round_trips_through_html(plain, bold):
    source = f"{html.escape(plain)}<b>{html.escape(bold)}</b>"

    parsed = parse_html(source)

    assert parsed.text == plain + bold
    assert parsed.warnings == []
    assert parse_html(entities_to_html(parsed.text, parsed.entities)).text == parsed.text
