"""The demo's terminal screen: draws the conversation and remembers which number presses which button."""

from __future__ import annotations

import dataclasses
from typing import Any, TextIO

from ocm_bot.demo.rendering import Style, render_text


@dataclasses.dataclass
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


class Screen:
    """Draws the conversation and remembers which number presses which button."""

    def __init__(self, out: TextIO, style: Style) -> None:
        self.out = out
        self.style = style
        self.keyboards: dict[int, list[Button]] = {}
        self.latest_keyboard: int | None = None

    def write(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def bot_message(self, message: dict[str, Any], source_text: str, parse_mode: str | None, *, edited: bool) -> None:
        number = message["message_id"]
        label = f"bot #{number}" + (" (edited)" if edited else "")
        self.write()
        self.write(self.style("bot", f"── {label} ") + self.style("dim", "─" * max(0, 50 - len(label))))
        self.write(render_text(source_text, parse_mode, self.style))
        self.keyboard(number, message.get("reply_markup"))

    def forget_keyboard(self, message_id: int) -> bool:
        """Drop a message's buttons; a bare number then presses those of the newest message that has some."""
        dropped = self.keyboards.pop(message_id, None) is not None
        if self.latest_keyboard == message_id:
            self.latest_keyboard = max(self.keyboards, default=None)
        return dropped

    def keyboard(self, message_id: int, markup: Any) -> None:
        if not isinstance(markup, dict):
            self.forget_keyboard(message_id)
            return
        if "inline_keyboard" in markup:
            buttons: list[Button] = []
            lines = []
            for row in markup["inline_keyboard"]:
                cells = []
                for raw in row:
                    buttons.append(Button(raw.get("text", ""), raw.get("callback_data"), raw.get("url")))
                    mark = " ↗" if raw.get("url") and "↗" not in raw.get("text", "") else ""
                    cells.append(self.style("button", f"[{len(buttons)}] {raw.get('text', '')}{mark}"))
                lines.append("  " + "   ".join(cells))
            if buttons:
                self.keyboards[message_id] = buttons
                self.latest_keyboard = message_id
                self.write("\n".join(lines))
            else:
                self.forget_keyboard(message_id)
        elif "keyboard" in markup:
            labels = [f"[{b.get('text', '')}]" for row in markup["keyboard"] for b in row]
            self.write(self.style("dim", "  keyboard: " + "  ".join(labels)))
            if any(b.get("request_location") for row in markup["keyboard"] for b in row):
                self.write(self.style("dim", "  (in this demo, share a location with /loc <latitude> <longitude>)"))
        elif markup.get("force_reply"):
            self.write(self.style("dim", "  (the bot waits for your reply)"))

    def removed_keyboard(self, message_id: int) -> None:
        if self.forget_keyboard(message_id):
            self.write(self.style("dim", f"   (buttons of #{message_id} removed)"))

    def alert(self, text: str, *, show_alert: bool) -> None:
        self.write(self.style("alert", ("⚠ " if show_alert else "ⓘ ") + text))

    def note(self, text: str) -> None:
        self.write(self.style("dim", text))

    def button(self, message_id: int | None, number: int) -> tuple[int, Button] | None:
        target = message_id if message_id is not None else self.latest_keyboard
        buttons = self.keyboards.get(target) if target is not None else None
        if target is None or not buttons or not 1 <= number <= len(buttons):
            return None
        return target, buttons[number - 1]
