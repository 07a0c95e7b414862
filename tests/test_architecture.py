"""The layering of DEVELOPERS.md, checked on the source: ocm -> domain -> views -> handlers, storage aside.

Every import counts, wherever it is written: at the top, inside a function, under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ocm_bot"

# layer -> modules (and their submodules) it must never import
FORBIDDEN_IMPORTS: dict[str, tuple[str, ...]] = {
    "ocm_bot.ocm": ("ocm_bot.domain", "ocm_bot.views", "ocm_bot.handlers", "ocm_bot.storage", "ocm_bot.app"),
    "ocm_bot.domain": ("telegram", "httpx", "ocm_bot.views", "ocm_bot.handlers", "ocm_bot.app"),
    "ocm_bot.views": ("httpx", "ocm_bot.handlers", "ocm_bot.app", "ocm_bot.storage"),
    "ocm_bot.storage": ("ocm_bot.domain", "ocm_bot.views", "ocm_bot.handlers"),
    "ocm_bot.errors": ("ocm_bot",),  # the bottom layer: every layer may import it, it imports none
}

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
