"""The layering of DEVELOPERS.md, checked on the source: ocm -> domain -> views -> handlers, storage aside.

Every import counts, wherever it is written: at the top, inside a function, under ``TYPE_CHECKING``.
Every module belongs to a layer, and the domain speaks the domain: no translations, no OCM wire-format
keys, no emoji (the views label, ``ocm/`` maps to and from OCM's JSON).
"""

from __future__ import annotations

import ast
import re
import unicodedata
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ocm_bot"

# layer -> modules (and their submodules) it must never import
FORBIDDEN_IMPORTS: dict[str, tuple[str, ...]] = {
    "ocm_bot.ocm": ("ocm_bot.domain", "ocm_bot.views", "ocm_bot.handlers", "ocm_bot.storage", "ocm_bot.app"),
    "ocm_bot.domain": ("telegram", "httpx", "ocm_bot.i18n", "ocm_bot.views", "ocm_bot.handlers", "ocm_bot.app"),
    "ocm_bot.views": ("httpx", "ocm_bot.handlers", "ocm_bot.app", "ocm_bot.storage"),
    "ocm_bot.storage": ("ocm_bot.domain", "ocm_bot.views", "ocm_bot.handlers"),
    # handlers ask the domain; how a search is put to OCM is the domain's business
    "ocm_bot.handlers": ("ocm_bot.ocm.query",),
    # the search filter stands on its own; the preferences menus build on it, not the other way
    "ocm_bot.domain.filters": ("ocm_bot.domain.preferences_edit",),
    "ocm_bot.errors": ("ocm_bot",),  # the bottom layer: every layer may import it, it imports none
}

# layer -> the modules (and their submodules) that make it up; every module of the package is in one
LAYERS: dict[str, tuple[str, ...]] = {
    "foundation": (
        "ocm_bot",
        "ocm_bot.errors",
        "ocm_bot.geometry",
        "ocm_bot.i18n",
        "ocm_bot.logging_setup",
        "ocm_bot.metrics",
        "ocm_bot.settings",
    ),
    "ocm": ("ocm_bot.ocm", "ocm_bot.geocoding", "ocm_bot.routing"),
    "storage": ("ocm_bot.storage",),
    "domain": ("ocm_bot.domain",),
    "views": ("ocm_bot.views",),
    "handlers": ("ocm_bot.handlers",),
    "composition": (
        "ocm_bot.__main__",
        "ocm_bot.app",
        "ocm_bot.cli",
        "ocm_bot.context",
        "ocm_bot.delivery",
        "ocm_bot.demo",
        "ocm_bot.endpoints",
        "ocm_bot.health",
        "ocm_bot.runtime",
    ),
}

# OCM's JSON field names: ``ocm/`` maps them to typed objects, the domain never spells them
OCM_WIRE_KEYS = frozenset(
    {
        "AddressInfo",
        "ChargePointID",
        "CheckinStatusTypeID",
        "CommentTypeID",
        "ConnectionTypeID",
        "Connections",
        "DataProviderID",
        "LevelID",
        "OperatorID",
        "PowerKW",
        "StatusTypeID",
        "UsageTypeID",
        "UserComments",
    }
)

# the composition root reads the environment once; everything else gets Settings passed down
ENVIRONMENT_READERS = {"ocm_bot.settings", "ocm_bot.cli"}
ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, ast.Module]:
    return {module_name(path): ast.parse(path.read_text(), str(path)) for path in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name: str, tree: ast.Module, *, is_package: bool = False) -> set[str]:
    """Every module ``tree`` imports, relative imports resolved, ``from a import b`` counted as ``a.b`` too."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def environment_reads(tree: ast.Module) -> list[int]:
    """Line numbers where ``os.environ``/``os.getenv`` (under any alias) is used or imported by name."""
    os_aliases = {"os"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_aliases.update(alias.asname or alias.name for alias in node.names if alias.name == "os")
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            if any(alias.name in ENVIRONMENT_NAMES for alias in node.names):
                lines.append(node.lineno)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in ENVIRONMENT_NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id in os_aliases
        ):
            lines.append(node.lineno)
    return lines


def within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer_of(module: str) -> str | None:
    """The layer whose most specific prefix covers ``module`` (``ocm_bot`` itself covers only itself)."""
    best: tuple[int, str] | None = None
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            covers = module == prefix if prefix == "ocm_bot" else within(module, prefix)
            if covers and (best is None or len(prefix) > best[0]):
                best = (len(prefix), layer)
    return best[1] if best else None


def string_literals(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, text) of every string constant, f-string parts included (docstrings too)."""
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def is_emoji(char: str) -> bool:
    """A pictograph or dingbat as Telegram shows it in colour (✅ ⚠️ 🚗 ❓ ...), or the variation selector."""
    code = ord(char)
    return (
        code >= 0x1F000
        or 0x2600 <= code <= 0x27BF  # miscellaneous symbols, dingbats
        or 0x2B00 <= code <= 0x2BFF  # arrows and shapes used as emoji (⬆ ⭐)
        or code == 0xFE0F
        or (unicodedata.category(char) == "So" and "ARROW" in unicodedata.name(char, ""))
    )


def wire_keys_and_emoji(tree: ast.Module) -> list[str]:
    found = []
    for line, text in sorted(string_literals(tree)):
        words = set(re.findall(r"[A-Za-z]+", text))
        found.extend(f"line {line}: OCM key {key!r}" for key in sorted(OCM_WIRE_KEYS & words))
        found.extend(f"line {line}: emoji {char!r}" for char in sorted(set(text)) if is_emoji(char))
    return found


MODULES = package_modules()


@pytest.mark.parametrize("layer", sorted(FORBIDDEN_IMPORTS))
def test_layer_imports_only_from_the_layers_below_it(layer):
    violations = []
    for name, tree in MODULES.items():
        if not within(name, layer):
            continue
        is_package = (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists()
        for imported in sorted(imported_modules(name, tree, is_package=is_package)):
            if any(within(imported, forbidden) for forbidden in FORBIDDEN_IMPORTS[layer]):
                violations.append(f"{name} imports {imported}")
    assert violations == []


def test_every_module_belongs_to_a_layer():
    assert [name for name in MODULES if layer_of(name) is None] == []


def test_the_foundation_imports_nothing_above_it():
    """Geometry, translations, logging and the environment's settings stand below every layer."""
    violations = [
        f"{name} imports {imported}"
        for name, tree in MODULES.items()
        if layer_of(name) == "foundation"
        for imported in sorted(imported_modules(name, tree, is_package=name == "ocm_bot"))
        if within(imported, "ocm_bot") and imported != "ocm_bot" and layer_of(imported) not in {None, "foundation"}
    ]
    assert violations == []


def test_the_domain_holds_no_ocm_wire_keys_and_no_emoji():
    found = {
        name: problems
        for name, tree in MODULES.items()
        if within(name, "ocm_bot.domain") and (problems := wire_keys_and_emoji(tree))
    }
    assert found == {}


def test_the_layer_check_fails_a_module_no_layer_claims():
    assert layer_of("ocm_bot.domain.search") == "domain"
    assert layer_of("ocm_bot.views") == "views"
    assert layer_of("ocm_bot") == "foundation"
    assert layer_of("ocm_bot.new_feature") is None
    assert layer_of("ocm_bot.geometry_extra") is None


def test_the_domain_scan_sees_wire_keys_and_emoji_in_any_string():
    source = (
        'BODY = {"ChargePointID": 1}\n'
        'LABEL = "\u2705 Charged"\n'
        'ARROW = f"{x} \u2197"\n'
        'NAME = "ALDI S\u00dcD 50\u00b0"\n'
        'PLAIN = "charger_id"\n'
    )
    assert wire_keys_and_emoji(ast.parse(source)) == [
        "line 1: OCM key 'ChargePointID'",
        "line 2: emoji '\u2705'",
        "line 3: emoji '\u2197'",
    ]


def test_only_settings_and_cli_read_the_environment():
    readers = {
        name: lines
        for name, tree in MODULES.items()
        if name not in ENVIRONMENT_READERS and (lines := environment_reads(tree))
    }
    assert readers == {}


def test_the_checks_see_imports_in_functions_type_checking_blocks_and_relative_imports():
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from ocm_bot.storage.base import OutboxItem\n"
        "def late():\n"
        "    import httpx\n"
        "    from ..handlers import search\n"
        "    from . import cards\n"
    )
    found = imported_modules("ocm_bot.views.example", ast.parse(source))
    assert {"ocm_bot.storage.base", "httpx", "ocm_bot.handlers.search", "ocm_bot.views.cards"} <= found


def test_the_environment_check_sees_every_spelling_of_an_environment_read():
    source = (
        "import os\n"
        "import os as system\n"
        "from os import getenv\n"
        "def token():\n"
        "    return os.environ['A'], system.getenv('B'), os.environ.get('C')\n"
        "def path():\n"
        "    return os.path.join('a', 'b')\n"
    )
    assert environment_reads(ast.parse(source)) == [3, 5, 5, 5]


# The composition root (ocm_bot.app) builds every service and names every handler module; nothing
# is found by name at run time, and handlers only read the services they are given.
SERVICE_CLASSES = frozenset(
    {"Accounts", "CheckinService", "Geocoder", "LiveTracker", "LocalSource", "OcmClient", "Outbox", "SearchService"}
    | {"StoredResults", "open_storage", "SqliteStorage", "PostgresStorage"}
)
DISCOVERY_HOOKS = frozenset({"handlers", "jobs", "priority_handlers", "restored_conversations", "setup"})


def dynamic_lookups(tree: ast.Module) -> list[str]:
    """``__import__``/``import_module`` calls, and ``getattr`` of a feature hook by its name."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name in ("__import__", "import_module"):
            found.append(f"line {node.lineno}: {name}")
        elif name in ("getattr", "hasattr") and len(node.args) >= 2:
            hook = node.args[1]
            if isinstance(hook, ast.Constant) and hook.value in DISCOVERY_HOOKS:
                found.append(f"line {node.lineno}: {name}(..., {hook.value!r})")
    return found


def constructed_names(tree: ast.Module) -> set[str]:
    return {
        node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
    }


def test_no_module_is_found_by_name_at_run_time():
    offenders = {name: found for name, tree in package_modules().items() if (found := dynamic_lookups(tree))}
    assert offenders == {}


def test_handlers_and_the_demo_never_build_a_service():
    """Handlers read ``context.services``; the demo hands its OCM and gazetteer to the composition root."""
    offenders = {
        name: sorted(built)
        for name, tree in package_modules().items()
        if (within(name, "ocm_bot.handlers") or within(name, "ocm_bot.demo"))
        and (built := constructed_names(tree) & SERVICE_CLASSES)
    }
    assert offenders == {}


# Pieces the handler modules share, with no handlers of their own.
SHARED_HANDLER_PIECES = ("ocm_bot.handlers.answers", "ocm_bot.handlers.common", "ocm_bot.handlers.conversation")


def test_the_composition_root_names_every_handler_module_in_one_function():
    import inspect

    from ocm_bot import app

    source = inspect.getsource(app.register_handlers)
    handler_modules = {
        name.rsplit(".", 1)[1]
        for name in package_modules()
        if within(name, "ocm_bot.handlers") and name not in ("ocm_bot.handlers", *SHARED_HANDLER_PIECES)
    }
    unnamed = {module for module in handler_modules if f"{module}.handlers()" not in source}
    assert unnamed == set()


def test_every_service_has_a_concrete_type():
    import dataclasses
    import typing

    from ocm_bot.context import Services

    hints = typing.get_type_hints(Services)
    loose = {
        field.name: hints[field.name]
        for field in dataclasses.fields(Services)
        if hints[field.name] is typing.Any or type(None) in typing.get_args(hints[field.name])
    }
    assert loose == {}


def test_the_lookup_checks_see_discovery_and_construction():
    tree = ast.parse(
        "m = __import__('ocm_bot.handlers.x')\nhook = getattr(m, 'setup', None)\nservice = SearchService(source)\n"
    )
    assert dynamic_lookups(tree) == ["line 1: __import__", "line 2: getattr(..., 'setup')"]
    assert "SearchService" in constructed_names(tree)


def test_settings_means_the_environment_configuration_only():
    """The driver's /settings menu lives in the ``preferences`` modules; ``settings`` is ``Settings``."""
    named_settings = {name for name in package_modules() if any("settings" in part for part in name.split(".")[1:])}
    assert named_settings == {"ocm_bot.settings"}


# The parts a screen is built from: each returns HTML that a screen function wraps in a ``View``.
HTML_PARTS = frozenset(
    {
        "ocm_bot.views.html",  # the HTML type and its builders
        "ocm_bot.views.format.html_text",
        "ocm_bot.views.results.header",
        "ocm_bot.views.results.summary_line",
        "ocm_bot.views.results.results_text",
        "ocm_bot.views.details.details_text",
        "ocm_bot.views.area.area_title",  # parts of the results header (area and route results)
        "ocm_bot.views.route.route_title",
        "ocm_bot.views.route.along_line",
    }
)


def screens_returning_bare_html(modules: dict[str, ast.Module]) -> list[str]:
    found = []
    for name, tree in modules.items():
        if not within(name, "ocm_bot.views") or name in HTML_PARTS:
            continue
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            if f"{name}.{node.name}" in HTML_PARTS:
                continue
            if node.returns is not None and ast.unparse(node.returns) == "Html":
                found.append(f"{name}.{node.name}")
    return found


def test_every_screen_is_a_view_not_bare_html():
    # A message sent with parse_mode=HTML is a View (text and keyboard together); bare ``str`` is only
    # for plain-text messages and callback-query alerts (views/common.py says so).
    assert screens_returning_bare_html(package_modules()) == []


def test_the_view_check_sees_a_screen_returning_html():
    tree = ast.parse("def notice_text(t) -> Html: ...\ndef _part(t) -> Html: ...\ndef ok(t) -> View: ...")
    assert screens_returning_bare_html({"ocm_bot.views.example": tree}) == ["ocm_bot.views.example.notice_text"]


MODULE_LINE_LIMIT = 400
LONG_MODULE_MARKER = "Over 400 lines"


def long_modules_without_a_reason(sources: dict[str, str]) -> list[str]:
    found = []
    for name, source in sources.items():
        count = len(source.splitlines())
        if count <= MODULE_LINE_LIMIT:
            continue
        docstring = ast.get_docstring(ast.parse(source)) or ""
        if LONG_MODULE_MARKER not in docstring:
            found.append(f"{name} ({count} lines)")
    return found


def test_a_module_over_400_lines_says_why_in_its_docstring():
    # "Over 400 lines: <the reason>" in the module's docstring, or the module is split.
    sources = {module_name(path): path.read_text(encoding="utf-8") for path in sorted(PACKAGE.rglob("*.py"))}
    assert long_modules_without_a_reason(sources) == []


def test_the_length_check_sees_a_long_module_without_a_reason():
    body = "x = 1\n" * 401
    sources = {
        "ocm_bot.silent": '"""A module."""\n' + body,
        "ocm_bot.explained": '"""A module.\n\nOver 400 lines: one table.\n"""\n' + body,
        "ocm_bot.short": '"""A module."""\n' + "x = 1\n" * 10,
    }
    assert long_modules_without_a_reason(sources) == ["ocm_bot.silent (402 lines)"]
