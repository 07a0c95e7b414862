"""Typed HTML for ``parse_mode=HTML`` messages: :class:`Html` is HTML, a plain ``str`` is text.

Anything that is not :class:`Html` is escaped when it meets HTML, so a translation, an OCM title or a
driver's words containing ``&`` or ``<`` can never break a message::

    bold(t.gettext("Settings saved"))                      # Html("<b>Settings saved</b>")
    gettext_html(t, "Your check-in at {name}", name=bold(charger_name))
    lines(bold(title), "Fish & chips")                     # the second line escaped

Quotes stay as they are (our HTML never puts text inside attributes), as ``html.escape(quote=False)``.
A lone surrogate (which JSON can carry, as ``"\\ud800"``, but UTF-8 cannot: the message could not be
sent at all) becomes U+FFFD, the replacement character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from html import escape as _escape_text
from typing import Any, Self

from markupsafe import Markup

from ocm_bot.i18n import Translator, isolate

_SURROGATE = re.compile("[\ud800-\udfff]")


def sendable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, so that it can be encoded as UTF-8."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


class Html(Markup):
    """A piece of Telegram HTML; ``str`` values joined or formatted into it are escaped."""

    __slots__ = ()

    @classmethod
    def escape(cls, s: Any) -> Self:
        if hasattr(s, "__html__"):
            return cls(s.__html__())
        return cls(_escape_text(sendable(str(s)), quote=False))


def escape(text: str | Html) -> Html:
    """Plain text as HTML (HTML stays as it is)."""
    return Html.escape(text)


def bold(text: str | Html) -> Html:
    return Html("<b>{}</b>").format(text)


def italic(text: str | Html) -> Html:
    return Html("<i>{}</i>").format(text)


def link(url: str, text: str | Html) -> Html:
    return Html('<a href="{}">{}</a>').format(Html(_escape_text(url, quote=True)), text)


def lines(*parts: str | Html) -> Html:
    """One line per part."""
    return Html("\n").join(parts)


def join(separator: str | Html, parts: Iterable[str | Html]) -> Html:
    return Html.escape(separator).join(parts)


def gettext_html(t: Translator, message: str, /, **values: str | int | float | Html) -> Html:
    """The translation of ``message`` as HTML, its placeholders filled with ``values`` (escaped unless Html)."""
    return _fill(t.gettext(message, **_keep_placeholders(values)), _isolated(t, values))


def ngettext_html(t: Translator, singular: str, plural: str, n: int, /, **values: str | int | float | Html) -> Html:
    """:func:`gettext_html` for a message with plural forms (``{n}`` is the count)."""
    return _fill(t.ngettext(singular, plural, n, **_keep_placeholders(values)), _isolated(t, values))


def _keep_placeholders(values: Mapping[str, object]) -> dict[str, str]:
    # The translator fills placeholders itself; ask it to write each one back so that the translated
    # text can be escaped first and the values (escaped or HTML) filled in afterwards.
    return {name: "{" + name + "}" for name in values}


def _isolated(t: Translator, values: Mapping[str, str | int | float | Html]) -> dict[str, str | int | float | Html]:
    """In right-to-left text each value between Unicode isolates (names and numbers keep their direction)."""
    if not t.rtl:
        return dict(values)
    return {name: Html(isolate(Html.escape(value))) for name, value in values.items()}


def _fill(template: str, values: Mapping[str, str | int | float | Html]) -> Html:
    html = Html.escape(template)
    return html.format(**values) if values else html
