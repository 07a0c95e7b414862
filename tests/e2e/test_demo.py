"""``ocm-bot demo`` driven as a person would: a real process in a pseudo-terminal (pexpect).

The demo is the real application on bundled data; these tests read only what the terminal shows.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PROMPT = "you › "
MILE_END = "/loc 51.5225 -0.0375"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def spawn(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> pexpect.spawn:
    """``python -m ocm_bot demo`` in a fresh folder (no .env), with no token and no OCM key."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("TELEGRAM_BOT_TOKEN", "OCM_API_KEY", "OCM_DATA_FILE", "DATABASE_URL", "NO_COLOR")
        and not key.startswith("LC_")
    }
    environment.update(
        {"PYTHONPATH": str(REPO_ROOT), "TERM": "xterm-256color", "PYTHONIOENCODING": "utf-8", "LANG": "C.UTF-8"}
    )
    environment.update(env or {})
    child = pexpect.spawn(
        sys.executable,
        ["-m", "ocm_bot", *args],
        cwd=str(tmp_path),
        env=environment,
        encoding="utf-8",
        timeout=30,
        dimensions=(60, 200),
    )
    return child


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[pexpect.spawn]:
    child = spawn(tmp_path, "demo", "--no-color")
    try:
        yield child
    finally:
        if child.isalive():
            child.terminate(force=True)


def say(child: pexpect.spawn, line: str) -> str:
    """Type a line and return everything the terminal showed until the next prompt."""
    child.sendline(line)
    child.expect_exact(PROMPT)
    return child.before


def button(screen: str, label: str) -> str:
    """The number shown for the last button on the screen whose label starts with ``label``."""
    numbers = re.findall(r"\[(\d+)\] " + re.escape(label), screen)
    assert numbers, f"no button {label!r} on the screen:\n{screen}"
    return numbers[-1]


def test_a_driver_finds_turns_a_page_and_drops_a_filter_offline(demo: pexpect.spawn) -> None:
    demo.expect_exact(PROMPT)
    banner = demo.before
    assert "offline demo" in banner and "bundled data" in banner
    assert "TELEGRAM_BOT_TOKEN" in banner and "OCM_API_KEY" in banner

    welcome = say(demo, "/start")
    assert "I find electric-vehicle chargers near you" in welcome
    assert "Send my location" in welcome

    results = say(demo, MILE_END)
    assert "Chargers near" in results
    assert "page 1 of" in results
    assert "Shell Recharge/Ubitricity" in results  # the nearest real record, about 16 m away
    assert "Data: UK National Charge Point Registry" in results

    page_two = say(demo, button(results, "Next ›"))
    assert "(edited)" in page_two
    assert "page 2 of" in page_two
    assert "6. " in page_two

    assert "working only" in page_two.split("page 2 of")[0]
    unfiltered = say(demo, button(page_two, "✕ working only"))
    header = unfiltered.split("(edited)")[1].split("nearest first")[0]
    assert "working only" not in header
    assert "Filters:" in header

    details = say(demo, button(unfiltered, "ℹ️ 1"))
    assert "Connections" in details
    assert "openstreetmap.org" in details  # the venue, as a map link

    demo.sendline("/quit")
    demo.expect(pexpect.EOF)
    demo.close()
    assert demo.exitstatus == 0


def test_a_driver_checks_in_from_start_to_delivered_offline(demo: pexpect.spawn) -> None:
    demo.expect_exact(PROMPT)
    results = say(demo, MILE_END)
    details = say(demo, button(results, "ℹ️ 1"))

    outcome = say(demo, button(details, "✅ Check in"))
    assert "How did it go at" in outcome
    rating = say(demo, button(outcome, "✅ Charged successfully"))
    assert "Rate" in rating
    comment = say(demo, button(rating, "4"))
    assert "Anything to add" in comment
    summary = say(demo, button(comment, "Skip"))
    assert "Your check-in at" in summary
    assert "★★★★☆" in summary
    assert "Charged successfully" in summary
    assert "cannot post" not in summary and "/login" not in summary

    # The demo's bundled OCM takes the check-in, and the driver sees it delivered.
    demo.sendline(button(summary, "Submit"))
    demo.expect_exact("Thanks! Your check-in at")
    demo.expect_exact(PROMPT)

    demo.sendline("/quit")
    demo.expect(pexpect.EOF)
    demo.close()
    assert demo.exitstatus == 0


def test_a_command_or_a_button_the_bot_knows_is_not_also_called_unknown(demo: pexpect.spawn) -> None:
    demo.expect_exact(PROMPT)
    welcome = say(demo, "/start")
    assert "I find electric-vehicle chargers" in welcome
    assert "I don't know that command" not in welcome
    results = say(demo, MILE_END)
    page_two = say(demo, button(results, "Next ›"))
    assert "page 2 of" in page_two
    assert "This button has expired" not in page_two


def test_place_names_resolve_offline_and_end_of_input_exits_cleanly(demo: pexpect.spawn) -> None:
    demo.expect_exact(PROMPT)
    found = say(demo, "Garforth")
    assert "Lidl" in found and "Garforth" in found
    unknown = say(demo, "5")
    assert unknown.strip()  # a button or a helpful note, never silence
    nothing = say(demo, "/press 999")
    assert "No such button" in nothing
    demo.sendeof()
    demo.expect(pexpect.EOF)
    demo.close()
    assert demo.exitstatus == 0


def test_colours_in_a_terminal_unless_no_color(tmp_path: Path) -> None:
    coloured = spawn(tmp_path, "demo")
    coloured.expect_exact(PROMPT)
    assert ANSI.search(coloured.before)
    coloured.sendline("/quit")
    coloured.expect(pexpect.EOF)

    plain = spawn(tmp_path, "demo", env={"NO_COLOR": "1"})
    plain.expect_exact(PROMPT)
    assert not ANSI.search(plain.before)
    plain.sendline("/quit")
    plain.expect(pexpect.EOF)


def test_run_without_a_token_explains_and_starts_the_demo(tmp_path: Path) -> None:
    child = spawn(tmp_path, "run")
    child.expect_exact(PROMPT)
    assert "No TELEGRAM_BOT_TOKEN is set" in child.before
    assert "offline demo" in child.before
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_the_demo_speaks_the_terminal_language(tmp_path):
    child = spawn(tmp_path, "demo", "--no-color", env={"LANG": "de_DE.UTF-8"})
    child.expect("you ›")
    child.sendline("/start")
    child.expect("Hallo Driver!")
    child.expect("Meinen Standort senden")
    child.sendline("/quit")
    child.expect(pexpect.EOF)


def test_the_demo_searches_an_area_with_its_outline_and_a_route_as_a_great_circle(demo: pexpect.spawn) -> None:
    demo.expect_exact(PROMPT)
    area = say(demo, "/area Tower Hamlets")
    assert "Chargers in Tower Hamlets" in area and "not its area" not in area
    count = re.search(r"(\d+) chargers · ", area)
    assert count and int(count.group(1)) > 50  # the Bow / Mile End records inside the borough
    town = say(demo, "/area Garforth")  # a town's bounding box
    assert "Chargers in Garforth" in town and "Lidl-Garforth" in town

    route = say(demo, "/route Mile End -> Garforth")
    assert "Chargers along Mile End" in route
    assert "straight line (great circle)" in route  # the demo has no router, and says so
    assert "in driving order" in route
