"""The fault matrix of docs/reliability.md, measured: runs tests/e2e/test_fault_matrix.py and writes
one row per service and fault (the answer the driver saw, how long it took, how the bot recovered).

    .venv/bin/python bench/fault_matrix.py            # about a minute on two cores
    .venv/bin/python bench/fault_matrix.py --no-write # print the table only
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reliability_doc import commit, machine, today, write_section

ROOT = Path(__file__).resolve().parents[1]
ORDER = [
    "times out (never answers)",
    "hangs 30 s, then answers",
    "refuses connections",
    "5xx (500)",
    "429, Retry-After: 4",
    "429, Retry-After: 2",
    "malformed JSON",
    "HTML error page (502)",
    "200 Error: Validation Failed",
    "200 []",
    "200, empty body",
    '400 {"code": "NoRoute"}',
]
SERVICES = [
    "Open Charge Map (search)",
    "Open Charge Map (check-in)",
    "Nominatim (place search)",
    "router (OSRM) (route search)",
    "Bot API (the reply)",
]


def run(workers: int) -> list[dict]:
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl", delete=False) as report:
        path = report.name
    env = os.environ | {"OCM_BOT_FAULT_MATRIX": path}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "tests/e2e/test_fault_matrix.py"]
    if workers > 1:
        command += ["-n", str(workers)]
    finished = subprocess.run(command, cwd=ROOT, env=env, check=False)
    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    Path(path).unlink()
    if finished.returncode != 0:
        raise SystemExit(f"the fault matrix tests failed (exit {finished.returncode}); nothing written")
    return rows


def table(rows: list[dict]) -> str:
    def key(row: dict) -> tuple[int, int]:
        return SERVICES.index(row["service"]), ORDER.index(row["fault"]) if row["fault"] in ORDER else 99

    lines = [
        "| service | fault | what the driver sees | answered after | recovery (service back) |",
        "|---|---|---|---|---|",
    ]
    for row in sorted(rows, key=key):
        lines.append(
            f"| {row['service']} | {row['fault']} | {row['answer']} | {row['seconds']:.2f} s | {row['recovery']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    started = f"Measured {today()} on {machine()}, commit {commit()}"
    rows = run(args.workers)
    body = (
        "Each upstream failing in each way, one at a time, while a driver acts: a location search (OCM), "
        "a check-in submit (OCM `POST /comment`), a place typed as text (Nominatim), a `/route` between "
        "two coordinates (the router at `ROUTER_URL`), the reply to a search (Bot API). "
        "The driver writes in German for the searches, so each answer is the translated "
        'one (the table gives the English message id). "Answered after" is from the driver\'s action to '
        'the answer (for refused Bot API connections: from the Bot API\'s return); "recovery" is the same '
        "action once the service is back, answered by the service again (nothing cached that should not "
        "be), with no restart. Faults last until the service is back (`times=None`), except the Bot API's "
        '5xx and 502 (two failed calls) and 429 (one). A "30 s hang" holds the request 30 s; the '
        "bot's own timeouts decide: 5 s for a search (`domain.search`), 3 s for Nominatim, 3 s for the "
        "router (`routing.ROUTE_TIMEOUT_SECONDS`, the whole answer), 7 s for a check-in `POST` "
        "(`OcmLimits.post_timeout`), python-telegram-bot's 5 s for the Bot API.\n\n"
        f"{started}. Measured by `tests/e2e/test_fault_matrix.py` (in the suite, asserting an answer "
        "within 10 s, the translation, the recovery and a single post); this table by "
        "`.venv/bin/python bench/fault_matrix.py`.\n\n" + table(rows) + "\n\n"
        "Notes. A Bot API `sendMessage` that never gets an answer is not sent again (Telegram may have "
        "delivered it; a driver would see it twice): the driver sees nothing for that search and the "
        "next one is answered; an edit is repeated instead. A check-in whose `POST` got no answer is "
        "kept *in doubt*: before posting it again the outbox looks for it among the charger's comments, "
        "so a post that OCM stored late (the 30 s hang) is not posted twice. OCM's "
        "`200 Error: Validation Failed` to a check-in means OCM refused that body: it is not retried, "
        "and the driver gets OCM's own check-in page. A route whose router fails in any way is drawn as "
        "the great circle between its ends, and the message says so; it is still one OCM request, and "
        "the next route asks the router again (the router's answers are not cached, nor its failures)."
    )
    print(table(rows))
    if not args.no_write:
        write_section("Fault matrix", body)
        print("written to docs/reliability.md")


if __name__ == "__main__":
    main()
