"""Checks Bot API requests (and our own answers) against the machine-readable Bot API description.

The description is `../shared/telegram/bot-api-10.0.json` (override the directory with the
`OCM_BOT_SHARED_DIR` environment variable): `methods` and `types`, each with `fields` of
`{"name", "types": ["Integer", "String", "Array of InlineKeyboardButton", ...], "required"}`;
abstract types list their `subtypes`.

Top-level parameters arrive as strings (form or multipart bodies, as python-telegram-bot sends them)
or as JSON values; nested objects are JSON and are checked strictly and recursively.

    schema = load_schema()
    request = schema.check_request("sendMessage", {"chat_id": "1", "text": "hi"})
    request.params      # {"chat_id": 1, "text": "hi"}  (coerced to the schema's types)
    request.problems    # [Problem(...)] : each with Telegram's error text, or None if Telegram
                        # would accept the request anyway (an unknown parameter, for example)
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_FILE = "bot-api-10.0.json"
_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DISCRIMINATOR_RE = re.compile(r'(?:must be |always ["“])([a-z_0-9]+)')
PRIMITIVES = {"Integer", "String", "Boolean", "Float", "True", "InputFile"}
MAX_INLINE_BUTTONS = 100


def shared_dir() -> Path:
    override = os.environ.get("OCM_BOT_SHARED_DIR")
    if override:
        return Path(override)
    return (Path(__file__).resolve().parents[3] / ".." / "shared").resolve()


@dataclass(frozen=True)
class Problem:
    """One way a request breaks the Bot API; `telegram_error` is what Telegram answers (or None)."""

    where: str
    problem: str
    telegram_error: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}"


@dataclass
class CheckedRequest:
    method: str | None  # the schema's spelling, None when the method does not exist
    params: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def rejection(self) -> str | None:
        """The first Telegram error text among the problems (what the bot gets back)."""
        return next((p.telegram_error for p in self.problems if p.telegram_error), None)


class Schema:
    def __init__(self, document: dict) -> None:
        self.version = document.get("version", "?")
        self.methods: dict[str, dict] = document["methods"]
        self.types: dict[str, dict] = document["types"]
        self._methods_by_lower = {name.lower(): name for name in self.methods}
        self._fields = {
            name: {f["name"]: f for f in spec.get("fields", [])}
            for name, spec in {**self.types, **self.methods}.items()
        }
        self._discriminators = {
            name: self._discriminator_table(spec["subtypes"]) for name, spec in self.types.items() if "subtypes" in spec
        }

    # --- requests -------------------------------------------------------------------------------

    def method_name(self, name: str) -> str | None:
        """Bot API method names are case-insensitive; returns the documented spelling."""
        return self._methods_by_lower.get(name.lower())

    def check_request(self, method: str, raw: dict[str, Any], files: frozenset[str] = frozenset()) -> CheckedRequest:
        name = self.method_name(method)
        if name is None:
            return CheckedRequest(None, dict(raw), [Problem(method, "unknown method", "Not Found")])
        checked = CheckedRequest(name)
        fields = self._fields[name]
        for param, value in raw.items():
            spec = fields.get(param)
            if spec is None:
                checked.params[param] = value
                checked.problems.append(Problem(f"{name}.{param}", "unknown parameter"))
                continue
            coerced, problems = self._coerce_param(name, param, value, spec["types"], files)
            checked.params[param] = coerced
            checked.problems.extend(problems)
        for param, spec in fields.items():
            if spec["required"] and param not in raw:
                checked.problems.append(
                    Problem(f"{name}.{param}", "required parameter missing", _missing_error(name, param))
                )
        checked.problems.extend(self._method_rules(name, checked.params))
        return checked

    def _coerce_param(
        self, method: str, param: str, value: Any, types: list[str], files: frozenset[str]
    ) -> tuple[Any, list[Problem]]:
        where = f"{method}.{param}"
        if not isinstance(value, str):
            # A JSON body: Telegram's server turns top-level values into strings first, so
            # numbers for String fields are fine; objects are checked as they are.
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if numeric and "String" in types and not {"Integer", "Float"} & set(types):
                return str(value), []
            return value, self.check_value(value, types, where, top=param)
        for kind in types:
            if kind == "Integer" and _INT_RE.match(value):
                return int(value), []
            if kind == "Float" and _FLOAT_RE.match(value):
                return float(value), []
            if kind == "Boolean" and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1"), []
            if kind == "String":
                return value, []
            if kind == "InputFile" and (value.startswith("attach://") or param in files):
                return value, []
        object_types = [t for t in types if t not in PRIMITIVES]
        if object_types:
            try:
                decoded = json.loads(value)
            except ValueError:
                return value, [
                    Problem(
                        where,
                        f"not valid JSON: {value[:80]!r}",
                        f"Bad Request: can't parse {_describe(param)} JSON object",
                    )
                ]
            return decoded, self.check_value(decoded, object_types, where, top=param)
        if param in files and "InputFile" in types:
            return value, []
        return value, [Problem(where, f"{value[:40]!r} is not {' or '.join(types)}", _type_error(method, param, types))]

    # --- values ---------------------------------------------------------------------------------

    def check_value(self, value: Any, types: list[str], where: str, top: str = "") -> list[Problem]:
        """Strictly check a JSON value against a union of schema types."""
        if len(types) > 1:
            # Report against the type the value was meant to be (an inline keyboard with bad
            # buttons is still an InlineKeyboardMarkup, not a ReplyKeyboardRemove).
            distances = {kind: self._shape_distance(value, kind) for kind in types}
            closest = min(distances.values())
            types = [kind for kind in types if distances[kind] == closest]
        best: list[Problem] | None = None
        for kind in types:
            problems = self._check_one(value, kind, where, top)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        return best or []

    def _shape_distance(self, value: Any, kind: str) -> int:
        if kind.startswith("Array of"):
            return 0 if isinstance(value, list) else 100
        spec = self.types.get(kind)
        if spec is None or "subtypes" in spec:
            return 0 if not self._check_one_primitive(value, kind) else 100
        if not isinstance(value, dict):
            return 100
        fields = self._fields[kind]
        unknown = sum(1 for key in value if key not in fields)
        missing = sum(1 for key, f in fields.items() if f["required"] and key not in value)
        return unknown + missing

    def _check_one_primitive(self, value: Any, kind: str) -> bool:
        """True when `value` is NOT of the primitive `kind` (abstract types count as matching)."""
        if kind in self.types:
            return not isinstance(value, dict)
        return bool(self._check_one(value, kind, "", ""))

    def _check_one(self, value: Any, kind: str, where: str, top: str) -> list[Problem]:
        if kind.startswith("Array of "):
            if not isinstance(value, list):
                return [self._type_problem(where, value, kind, top)]
            inner = kind.removeprefix("Array of ")
            problems: list[Problem] = []
            for index, item in enumerate(value):
                problems.extend(self.check_value(item, [inner], f"{where}[{index}]", top))
            return problems
        if kind in ("Integer",):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif kind == "String":
            ok = isinstance(value, str)
        elif kind == "Boolean":
            ok = isinstance(value, bool)
        elif kind == "True":
            ok = value is True
        elif kind == "InputFile":
            ok = isinstance(value, str)
        elif kind in self.types:
            return self.check_object(value, kind, where, top)
        else:
            return [Problem(where, f"schema names an unknown type {kind!r}")]
        return [] if ok else [self._type_problem(where, value, kind, top)]

    def _type_problem(self, where: str, value: Any, kind: str, top: str) -> Problem:
        return Problem(
            where,
            f"expected {kind}, got {type(value).__name__} {value!r:.60}",
            f'Bad Request: can\'t parse {_describe(top)}: Field "{where.rsplit(".", 1)[-1]}" must be of type {kind}',
        )

    def check_object(self, value: Any, type_name: str, where: str, top: str = "") -> list[Problem]:
        spec = self.types[type_name]
        if "subtypes" in spec:
            return self._check_abstract(value, type_name, where, top)
        if not isinstance(value, dict):
            return [self._type_problem(where, value, type_name, top)]
        fields = self._fields[type_name]
        problems: list[Problem] = []
        for key, item in value.items():
            field_spec = fields.get(key)
            if field_spec is None:
                problems.append(Problem(f"{where}.{key}", f"unknown field of {type_name}"))
                continue
            problems.extend(self.check_value(item, field_spec["types"], f"{where}.{key}", top))
        for key, field_spec in fields.items():
            if field_spec["required"] and key not in value:
                problems.append(
                    Problem(
                        f"{where}.{key}",
                        f"required field of {type_name} missing",
                        f"Bad Request: can't parse {_describe(top)}: "
                        f'Field "{key}" must be of type {field_spec["types"][0]}',
                    )
                )
        problems.extend(_object_rules(type_name, value, where))
        return problems

    def _check_abstract(self, value: Any, type_name: str, where: str, top: str) -> list[Problem]:
        if not isinstance(value, dict):
            return [self._type_problem(where, value, type_name, top)]
        table = self._discriminators[type_name]
        candidates = self.types[type_name]["subtypes"]
        if table:
            key, by_value = table
            tag = value.get(key)
            if tag not in by_value:
                return [
                    Problem(
                        f"{where}.{key}",
                        f"{tag!r} is not a {type_name} {key} ({', '.join(by_value)})",
                        f"Bad Request: can't parse {_describe(top)}: unsupported {type_name} {key} {tag!r}",
                    )
                ]
            candidates = by_value[tag]
        best: list[Problem] | None = None
        for subtype in candidates:
            problems = self.check_object(value, subtype, where, top)
            if not problems:
                return []
            if best is None or len(problems) < len(best):
                best = problems
        return best or []

    def _discriminator_table(self, subtypes: list[str]) -> tuple[str, dict[str, list[str]]] | None:
        key = None
        by_value: dict[str, list[str]] = {}
        for subtype in subtypes:
            required = [f for f in self.types[subtype].get("fields", []) if f["required"]]
            if not required:
                return None
            first = required[0]
            match = _DISCRIMINATOR_RE.search(first["description"])
            if not match or (key is not None and first["name"] != key):
                return None
            key = first["name"]
            by_value.setdefault(match.group(1), []).append(subtype)
        return (key, by_value) if key else None

    # --- rules the field types do not capture ---------------------------------------------------

    def _method_rules(self, method: str, params: dict[str, Any]) -> list[Problem]:
        problems: list[Problem] = []
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and isinstance(markup.get("inline_keyboard"), list):
            count = sum(len(row) for row in markup["inline_keyboard"] if isinstance(row, list))
            if count > MAX_INLINE_BUTTONS:
                problems.append(
                    Problem(
                        f"{method}.reply_markup",
                        f"{count} inline buttons (at most {MAX_INLINE_BUTTONS})",
                        "Bad Request: REPLY_MARKUP_TOO_LONG",
                    )
                )
        if method == "answerCallbackQuery":
            text = params.get("text")
            if isinstance(text, str) and len(text) > 200:
                problems.append(
                    Problem(f"{method}.text", f"{len(text)} characters (at most 200)", "Bad Request: MESSAGE_TOO_LONG")
                )
        if method == "answerInlineQuery":
            results = params.get("results")
            if isinstance(results, list):
                if len(results) > 50:
                    problems.append(
                        Problem(
                            f"{method}.results", f"{len(results)} results (max 50)", "Bad Request: RESULTS_TOO_MUCH"
                        )
                    )
                ids = [r.get("id") for r in results if isinstance(r, dict)]
                if len(set(ids)) != len(ids):
                    problems.append(
                        Problem(f"{method}.results", "duplicate result ids", "Bad Request: RESULT_ID_DUPLICATE")
                    )
                for result_id in ids:
                    if isinstance(result_id, str) and not 1 <= len(result_id.encode()) <= 64:
                        problems.append(
                            Problem(
                                f"{method}.results",
                                f"id {result_id!r} not 1-64 bytes",
                                "Bad Request: RESULT_ID_INVALID",
                            )
                        )
        if method == "setMyCommands":
            for command in params.get("commands") or []:
                if not isinstance(command, dict):
                    continue
                name = command.get("command", "")
                if not re.fullmatch(r"[a-z0-9_]{1,32}", str(name)):
                    problems.append(
                        Problem(
                            f"{method}.commands",
                            f"bad command {name!r}: 1-32 lowercase letters, digits, underscores",
                            "Bad Request: BOT_COMMAND_INVALID",
                        )
                    )
                description = command.get("description", "")
                if not 1 <= len(str(description)) <= 256:
                    problems.append(
                        Problem(
                            f"{method}.commands",
                            f"description of {name!r} not 1-256 characters",
                            "Bad Request: command description must be non-empty",
                        )
                    )
        for key, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
            value = params.get(key)
            if isinstance(value, int | float) and not low <= value <= high:
                problems.append(
                    Problem(f"{method}.{key}", f"{value} out of [{low}, {high}]", f"Bad Request: wrong {key}")
                )
        return problems


def _object_rules(type_name: str, value: dict, where: str) -> list[Problem]:
    problems: list[Problem] = []
    if type_name == "InlineKeyboardButton":
        data = value.get("callback_data")
        if isinstance(data, str) and not 1 <= len(data.encode("utf-8")) <= 64:
            problems.append(
                Problem(
                    f"{where}.callback_data",
                    f"{len(data.encode('utf-8'))} bytes (must be 1-64): {data!r}",
                    "Bad Request: BUTTON_DATA_INVALID",
                )
            )
        actions = set(value) - {"text", "icon_custom_emoji_id", "style"}
        if len(actions) != 1:
            problems.append(
                Problem(
                    where,
                    f"an inline button needs exactly one action field, has {sorted(actions)}",
                    "Bad Request: can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard",
                )
            )
        url = value.get("url")
        if isinstance(url, str) and not re.match(r"^(https?|tg)://\S+$", url):
            problems.append(
                Problem(
                    f"{where}.url",
                    f"not an HTTP or tg:// URL: {url!r}",
                    f"Bad Request: inline keyboard button URL '{url}' is invalid: Wrong HTTP URL",
                )
            )
    if type_name in ("InlineKeyboardButton", "KeyboardButton"):
        text = value.get("text")
        if isinstance(text, str) and not text.strip():
            problems.append(Problem(f"{where}.text", "empty button text", "Bad Request: BUTTON_TEXT_INVALID"))
    if type_name == "ReplyKeyboardMarkup":
        placeholder = value.get("input_field_placeholder")
        if isinstance(placeholder, str) and not 1 <= len(placeholder) <= 64:
            problems.append(
                Problem(
                    f"{where}.input_field_placeholder",
                    "not 1-64 characters",
                    "Bad Request: can't parse reply keyboard markup JSON object",
                )
            )
    return problems


_PARAM_DESCRIPTIONS = {
    "reply_markup": "reply keyboard markup",
    "results": "inline query results",
    "commands": "bot commands",
    "entities": "entities",
}


def _describe(param: str) -> str:
    return _PARAM_DESCRIPTIONS.get(param, param.replace("_", " "))


def _missing_error(method: str, param: str) -> str:
    if param == "chat_id":
        return "Bad Request: chat_id is empty"
    if param == "text":
        return "Bad Request: message text is empty"
    if param == "message_id":
        return "Bad Request: message identifier is not specified"
    return f'Bad Request: parameter "{param}" is required'


def _type_error(method: str, param: str, types: list[str]) -> str:
    if param == "chat_id":
        return "Bad Request: chat not found"
    return f'Bad Request: parameter "{param}" must be of type {types[0]}'


@functools.cache
def load_schema(path: str | None = None) -> Schema:
    file = Path(path) if path else shared_dir() / "telegram" / SCHEMA_FILE
    with open(file, encoding="utf-8") as handle:
        return Schema(json.load(handle))
