"""Telegram's HTML parse mode: turn `parse_mode="HTML"` text into plain text + MessageEntity dicts.

Part of the Bot API core shared by the demo's in-memory Bot API and the test suite's fake Bot API
server (which also reports the warnings below as violations).

Follows https://core.telegram.org/bots/api#html-style and the error wording of Telegram's own
parser ("can't parse entities: Unsupported start tag "br" at byte offset 5"). Offsets and lengths of
entities are in UTF-16 code units, as in real Message objects.

Two things Telegram tolerates but its documentation forbids ("All <, > and & symbols that are not a
part of a tag or an HTML entity must be replaced with the corresponding HTML entities") are reported
as *warnings*: a bare `&` or `>`. The server answers them like Telegram (accepted, shown literally)
and records a violation, because in our bot they always mean text that was not HTML-escaped.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ocm_bot.errors import OcmBotError

ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "tg-time",
        "code",
        "pre",
        "blockquote",
    }
)
# Tags that make one entity each (the tag's name and its synonyms), as Telegram's HTML mode reads them.
TAG_ENTITIES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_SPECIAL_RE = re.compile(r"[&<>]")
_ATTR_RE = re.compile(r"""\s*([a-zA-Z_-]+)\s*(?:=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")


class EntityParseError(OcmBotError, ValueError):
    """Telegram would answer 400 "Bad Request: can't parse entities: <message>"."""


@dataclass
class ParsedText:
    text: str
    entities: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML; raise EntityParseError exactly where Telegram would reject it."""
    out: list[str] = []
    out_len = 0  # in code points; converted to UTF-16 units at the end
    entities: list[dict] = []
    warnings: list[str] = []
    # stack of (tag, entity dict or None, start offset in the output, index of the tag in source)
    stack: list[tuple[str, dict | None, int, int]] = []
    i = 0
    n = len(source)

    def byte_offset(pos: int) -> int:
        return len(source[:pos].encode("utf-8"))

    def emit(chunk: str) -> None:
        nonlocal out_len
        out.append(chunk)
        out_len += len(chunk)

    while i < n:
        ch = source[i]
        if ch == "&":
            match = _ENTITY_RE.match(source, i)
            if match:
                name, dec, hexa = match.groups()
                if name:
                    emit(_NAMED_ENTITIES[name])
                else:
                    code = int(dec) if dec else int(hexa, 16)
                    emit(chr(code) if 0 < code <= 0x10FFFF else "\ufffd")
                i = match.end()
                continue
            warnings.append(f"unescaped '&' at byte offset {byte_offset(i)} (use &amp;): {_context(source, i)}")
            emit("&")
            i += 1
            continue
        if ch == ">":
            warnings.append(f"unescaped '>' at byte offset {byte_offset(i)} (use &gt;): {_context(source, i)}")
            emit(">")
            i += 1
            continue
        if ch != "<":
            special = _SPECIAL_RE.search(source, i + 1)
            j = special.start() if special else n
            emit(source[i:j])
            i = j
            continue

        begin = i
        end = source.find(">", i)
        if end == -1:
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {byte_offset(begin)}")
        if source.startswith("</", i):
            tag_name = source[i + 2 : end].strip().lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            open_tag, entity, start, _ = stack.pop()
            if tag_name != open_tag:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {byte_offset(begin)}, expected "
                    f'"</{open_tag}>", found "</{tag_name}>"'
                )
            if entity is not None:
                entity["offset"] = start
                entity["length"] = out_len - start
                if entity["length"] > 0:
                    entities.append(entity)
            i = end + 1
            continue

        inner = source[i + 1 : end]
        name_match = re.match(r"[^\s>/]*", inner)
        tag_name = name_match.group(0).lower() if name_match else ""
        if tag_name not in ALLOWED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag_name}" at byte offset {byte_offset(begin)}')
        tag_offset = functools.partial(byte_offset, begin)
        attributes = _parse_attributes(inner[len(tag_name) :], tag_offset)
        entity = _entity_for(tag_name, attributes, stack, tag_offset)
        stack.append((tag_name, entity, out_len, begin))
        i = end + 1

    if stack:
        tag_name = stack[-1][0]
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{tag_name}"')
    text = "".join(out)
    if utf16_len(text) != len(text):  # characters outside the BMP count two UTF-16 units
        units = [0]
        for char in text:
            units.append(units[-1] + (2 if ord(char) > 0xFFFF else 1))
        for entity in entities:
            end = units[entity["offset"] + entity["length"]]
            entity["offset"] = units[entity["offset"]]
            entity["length"] = end - entity["offset"]
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(text, entities, warnings)


def _context(source: str, pos: int) -> str:
    return repr(source[max(0, pos - 20) : pos + 20])


def _parse_attributes(text: str, tag_offset: Callable[[], int]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _ATTR_RE.match(text, pos)
        if not match or match.end() == pos:
            raise EntityParseError(
                f"Expected equal sign in declaration of an attribute of the tag at byte offset {tag_offset()}"
            )
        name, dq, sq, bare = match.groups()
        value = dq if dq is not None else sq if sq is not None else bare or ""
        attributes[name.lower()] = html.unescape(value)
        pos = match.end()
    return attributes


def _entity_for(tag: str, attributes: dict[str, str], stack: list, tag_offset: Callable[[], int]) -> dict | None:
    if tag in TAG_ENTITIES:
        if tag == "code" and stack and stack[-1][0] == "pre":
            # <pre><code class="language-python"> gives the pre entity its language
            language = attributes.get("class", "")
            pre_entity = stack[-1][1]
            if language.startswith("language-") and pre_entity is not None:
                pre_entity["language"] = language.removeprefix("language-")
            return None
        return {"type": TAG_ENTITIES[tag]}
    if tag == "span":
        if attributes.get("class") != "tg-spoiler":
            raise EntityParseError('Tag "span" must have class "tg-spoiler"')
        return {"type": "spoiler"}
    if tag == "a":
        href = attributes.get("href")
        if not href:
            return None
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            return {"type": "text_mention", "user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""}}
        return {"type": "text_link", "url": href}
    if tag == "tg-emoji":
        emoji_id = attributes.get("emoji-id")
        if not emoji_id:
            raise EntityParseError(f"Custom emoji entity must contain a tg://emoji URL at byte offset {tag_offset()}")
        return {"type": "custom_emoji", "custom_emoji_id": emoji_id}
    if tag == "tg-time":
        entity: dict = {"type": "date_time"}
        if "unix" in attributes:
            entity["unix_time"] = int(attributes["unix"]) if attributes["unix"].isdigit() else 0
        if "format" in attributes:
            entity["date_time_format"] = attributes["format"]
        return entity
    if tag == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attributes else "blockquote"}
    return None


def strip_edges(parsed: ParsedText) -> ParsedText:
    """Telegram trims whitespace around a message; entities move with the text."""
    text = parsed.text
    stripped_left = text.lstrip()
    cut16 = utf16_len(text) - utf16_len(stripped_left)
    stripped = stripped_left.rstrip()
    total16 = utf16_len(stripped)
    entities = []
    for entity in parsed.entities:
        start = max(entity["offset"] - cut16, 0)
        end = min(entity["offset"] + entity["length"] - cut16, total16)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    return ParsedText(stripped, entities, parsed.warnings)


def entities_to_html(text: str, entities: list[dict]) -> str:
    """Render text + entities back to Telegram HTML (for MessageView.html)."""
    units = text.encode("utf-16-le")
    opens: dict[int, list[str]] = {}
    closes: dict[int, list[str]] = {}
    for entity in sorted(entities, key=lambda e: (e["offset"], -e["length"])):
        tag_open, tag_close = _tags_for(entity)
        if not tag_open:
            continue
        opens.setdefault(entity["offset"], []).append(tag_open)
        closes.setdefault(entity["offset"] + entity["length"], []).insert(0, tag_close)
    out: list[str] = []
    length = len(units) // 2
    for pos in range(length + 1):
        out.extend(closes.get(pos, []))
        out.extend(opens.get(pos, []))
        if pos < length:
            unit = units[pos * 2 : pos * 2 + 2]
            # surrogate pairs: decode both halves together, emit on the high half
            code = int.from_bytes(unit, "little")
            if 0xD800 <= code < 0xDC00:
                out.append(html.escape(units[pos * 2 : pos * 2 + 4].decode("utf-16-le"), False))
            elif not 0xDC00 <= code < 0xE000:
                out.append(html.escape(unit.decode("utf-16-le"), False))
    return "".join(out)


def _tags_for(entity: dict) -> tuple[str, str]:
    kind = entity["type"]
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "spoiler": "tg-spoiler",
        "code": "code",
        "blockquote": "blockquote",
    }
    if kind in simple:
        return f"<{simple[kind]}>", f"</{simple[kind]}>"
    if kind == "pre":
        return "<pre>", "</pre>"
    if kind == "expandable_blockquote":
        return "<blockquote expandable>", "</blockquote>"
    if kind == "text_link":
        return f'<a href="{html.escape(entity["url"])}">', "</a>"
    if kind == "text_mention":
        return f'<a href="tg://user?id={entity["user"]["id"]}">', "</a>"
    return "", ""
