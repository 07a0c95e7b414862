"""The report's PNG plots (matplotlib, the ``bench`` extra); without matplotlib there are none.

Each function takes the figures of one run and writes one PNG; :func:`draw_all` returns the names of
the files written, or why none were.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def draw_all(results: dict[str, Any], folder: Path) -> tuple[list[str], str | None]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], "matplotlib is not installed (`pip install -e '.[bench]'`), so no plots were drawn"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in PLOTS.items():
        if not all(key in results for key in NEEDS[name]):
            continue
        figure = plt.figure(figsize=(7, 4), dpi=100)
        try:
            draw(figure, results)
            figure.tight_layout()
            figure.savefig(folder / f"{name}.png")
            written.append(f"{name}.png")
        finally:
            plt.close(figure)
    return written, None


def _latency(figure: Any, results: dict[str, Any]) -> None:
    ax = figure.add_subplot()
    zero, slow = results["latency"]["0"], results["latency"]["250"]
    kinds = list(zero)
    x = range(len(kinds))
    width = 0.2
    series = [
        ("bot-side p50", [zero[k]["own"]["p50"] for k in kinds]),
        ("bot-side p99", [zero[k]["own"]["p99"] for k in kinds]),
        ("driver waits p50, OCM 250 ms", [slow[k]["wait"]["p50"] for k in kinds]),
        ("bot-side p50, OCM 250 ms", [slow[k]["own"]["p50"] for k in kinds]),
    ]
    for n, (label, heights) in enumerate(series):
        ax.bar([i + (n - 1.5) * width for i in x], heights, width, label=label)
    ax.set_xticks(list(x), kinds, fontsize=8)
    ax.set_ylabel("ms")
    ax.set_yscale("log")
    ax.set_title("Per action: the bot's own time against what the driver waits")
    ax.legend(fontsize=7)


def _throughput(figure: Any, results: dict[str, Any]) -> None:
    ax = figure.add_subplot()
    runs = results["throughput"]
    labels = [f"{r['users']} users\n{r['mode']}" for r in runs]
    x = range(len(runs))
    ax.bar([i - 0.2 for i in x], [r["actions_per_s"] for r in runs], 0.4, label="driver actions/s")
    ax.bar([i + 0.2 for i in x], [r["messages_per_s"] for r in runs], 0.4, label="messages/s (sends and edits)")
    ax.axhline(30, color="red", linestyle="--", label="Telegram's ceiling, ~30 messages/s")
    ax.set_xticks(list(x), labels, fontsize=8)
    ax.set_ylabel("per second")
    ax.set_title("Throughput against Telegram's ceiling")
    ax.legend(fontsize=7)


def _economy(figure: Any, results: dict[str, Any]) -> None:
    economy = results["economy"]
    names = ["bot", "peer", "naive"]
    labels = ["this bot", "peer (50 km, 3 results,\n5-min cache)", "naive (1 verbose\nrequest/action)"]
    left, right = figure.subplots(1, 2)
    left.bar(labels, [economy[n]["per_action"] for n in names], color=["C0", "C1", "C2"])
    left.axhline(0.3, color="red", linestyle="--", label="goal 0.3")
    left.set_title("OCM requests per action", fontsize=9)
    left.legend(fontsize=7)
    naive = economy["naive"]["bytes"]
    right.bar(labels, [100 * economy[n]["bytes"] / naive for n in names], color=["C0", "C1", "C2"])
    right.axhline(30, color="red", linestyle="--", label="goal 30 %")
    right.set_title("bytes, % of naive", fontsize=9)
    right.legend(fontsize=7)
    for ax in (left, right):
        ax.tick_params(axis="x", labelsize=6)


def _watches(figure: Any, results: dict[str, Any]) -> None:
    left, right = figure.subplots(1, 2)
    polls = results["watches"]["polls"]
    left.loglog([p["watches"] for p in polls], [p["requests"] for p in polls], "o-", label="this bot")
    left.loglog([p["watches"] for p in polls], [p["watches"] for p in polls], "s--", label="one query per watch")
    left.set_xlabel("watches")
    left.set_title("OCM requests per poll", fontsize=9)
    left.legend(fontsize=7)
    matching = results["watches"]["matching"]
    right.loglog([m["watches"] for m in matching], [m["match_s"] for m in matching], "o-", label="WatchIndex")
    right.loglog(
        [m["watches"] for m in matching], [m["every_watch_s"] for m in matching], "s--", label="measure every watch"
    )
    right.set_xlabel("watches")
    right.set_title("matching 10,000 changes, s", fontsize=9)
    right.legend(fontsize=7)


def _local(figure: Any, results: dict[str, Any]) -> None:
    left, right = figure.subplots(1, 2)
    forms = results["local"]["forms"]
    left.bar(list(forms), [f["load_s"] for f in forms.values()])
    left.axhline(10, color="red", linestyle="--", label="goal 10 s")
    left.set_title(f"load {results['local']['count']:,} chargers, s", fontsize=9)
    left.tick_params(axis="x", labelsize=6, rotation=20)
    left.legend(fontsize=7)
    dense = results["local"]["dense"]
    sizes = list(dense)
    x = range(len(sizes))
    right.bar([i - 0.2 for i in x], [dense[s]["index"]["p99_ms"] for s in sizes], 0.4, label="index (fine grid)")
    right.bar(
        [i + 0.2 for i in x], [dense[s]["coarse grid alone"]["p99_ms"] for s in sizes], 0.4, label="0.1° grid alone"
    )
    right.axhline(2, color="red", linestyle="--", label="goal 2 ms")
    right.set_xticks(list(x), [f"{int(s):,} in 50 km" for s in sizes], fontsize=7)
    right.set_title("nearest-20 p99, ms", fontsize=9)
    right.legend(fontsize=7)


def _scaling(figure: Any, results: dict[str, Any]) -> None:
    ax = figure.add_subplot()
    runs = results["scaling"]
    users = [r["users"] for r in runs]
    ax.semilogx(users, [r["cpu_ms_per_action"] for r in runs], "o-", label="bot CPU per action, ms")
    ax.semilogx(users, [r["own_p50_ms"] for r in runs], "s-", label="bot-side time p50, ms")
    ax.set_xlabel("simultaneous drivers")
    ax.set_ylim(bottom=0)
    ax.set_title("Per-action cost as drivers grow")
    ax.legend(fontsize=7)


PLOTS = {
    "latency": _latency,
    "throughput": _throughput,
    "economy": _economy,
    "watches": _watches,
    "local": _local,
    "scaling": _scaling,
}
NEEDS = {
    "latency": ["latency"],
    "throughput": ["throughput"],
    "economy": ["economy"],
    "watches": ["watches"],
    "local": ["local"],
    "scaling": ["scaling"],
}
