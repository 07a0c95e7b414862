"""Telegram's HTML on a terminal: ANSI styles (or none), links spelled out, plain text for stored messages."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import ClassVar, TextIO

from ocm_bot.demo.formatting import TAG_ENTITIES


class Style:
    """ANSI styling, or plain text when colours are off."""

    CODES: ClassVar[dict[str, str]] = {
        "bold": "1",
        "dim": "2",
        "italic": "3",
        "underline": "4",
        "strike": "9",
        "bot": "1;36",
        "you": "1;32",
        "button": "33",
        "link": "4;34",
        "alert": "1;33",
        "error": "1;31",
    }

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, kind: str, text: str) -> str:
        if not self.color or not text:
            return text
        return f"\033[{self.CODES[kind]}m{text}\033[0m"


def wants_color(requested: bool, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Colours unless turned off (--no-color, NO_COLOR, https://no-color.org) or not a terminal."""
    if not requested or environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


# The terminal style of each entity Telegram makes from a tag (code and pre stand out in bold).
ENTITY_STYLES = {
    "bold": "bold",
    "italic": "italic",
    "underline": "underline",
    "strikethrough": "strike",
    "code": "bold",
    "pre": "bold",
}


class _HtmlToTerminal(HTMLParser):
    """Telegram's HTML subset (b, i, u, s, a, code, pre, blockquote, spoiler) as terminal text."""

    STYLES: ClassVar[dict[str, str]] = {
        tag: ENTITY_STYLES[entity] for tag, entity in TAG_ENTITIES.items() if entity in ENTITY_STYLES
    }

    def __init__(self, style: Style) -> None:
        super().__init__(convert_charrefs=True)
        self.style = style
        self.parts: list[str] = []
        self.stack: list[tuple[str, int, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        self.stack.append((tag, len(self.parts), href))

    def handle_endtag(self, tag: str) -> None:
        for position in range(len(self.stack) - 1, -1, -1):
            if self.stack[position][0] == tag:
                _, start, href = self.stack.pop(position)
                inner = "".join(self.parts[start:])
                del self.parts[start:]
                self.parts.append(self._styled(tag, inner, href))
                return

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def _styled(self, tag: str, inner: str, href: str | None) -> str:
        if tag == "a" and href:
            if inner.strip() == href or not inner.strip():
                return self.style("link", href)
            return f"{self.style('underline', inner)} <{self.style('link', href)}>"
        if tag == "blockquote":
            return "\n".join(f"│ {line}" for line in inner.splitlines())
        if tag == "tg-spoiler" or (tag == "span" and inner):
            return self.style("dim", inner)
        kind = self.STYLES.get(tag)
        return self.style(kind, inner) if kind else inner

    def result(self) -> str:
        while self.stack:  # unclosed tags: keep their text
            self.handle_endtag(self.stack[-1][0])
        return "".join(self.parts)


def render_text(text: str, parse_mode: str | None, style: Style) -> str:
    if (parse_mode or "").upper() == "HTML":
        parser = _HtmlToTerminal(style)
        parser.feed(text)
        parser.close()
        return parser.result()
    return text


def plain_text(text: str, parse_mode: str | None) -> str:
    """What Telegram stores as a message's text: the markup removed."""
    if (parse_mode or "").upper() == "HTML":
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    return text
