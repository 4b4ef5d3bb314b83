#!/usr/bin/python3
"""The picture of make bench: batch throughput and follow latency, from the raw samples.

    chart.py RESULTS.jsonl RESULTS.png

Left: entries/s of journalagent, journalctl and the floor per output mode (medians over the
rounds). Right: the distribution of follow-mode latency over the paced single probes, journalagent
vs journalctl -f in the same boot (per percentile, the median over the rounds). Needs matplotlib
(Debian: apt-get install python3-matplotlib).
"""
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from report import S, load, med, one  # noqa: E402

OURS, JOURNALCTL, FLOOR = "#1f77b4", "#d62728", "#7f7f7f"


def throughput(ax):
    entries = one("a", "journal", "entries")
    groups = [("json", "null", "json\n→ /dev/null"), ("json", "pipe", "json\n→ pipe"),
              ("short-iso", "null", "short-iso\n→ /dev/null"), ("cat", "null", "cat\n→ /dev/null")]
    tools = [("ours", "journalagent", OURS), ("journalctl", "journalctl", JOURNALCTL),
             ("floor", "floor (raw fields)", FLOOR)]
    width = 0.27
    top = 0
    for k, (tool, label, colour) in enumerate(tools):
        xs, ys = [], []
        for i, (mode, sink, _) in enumerate(groups):
            w = med("a", f"{mode}/{tool}/{sink}", "wall_s")
            if w and entries:
                xs.append(i + (k - 1) * width)
                ys.append(entries / w / 1000)
        ax.bar(xs, ys, width, label=label, color=colour)
        top = max([top] + ys)
        for x, y in zip(xs, ys):
            ax.text(x, y, f"{y:.0f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(groups)), [g[2] for g in groups], fontsize=8)
    ax.set_ylabel("thousand entries/s (higher is better)")
    ax.set_title(f"Batch: {entries or 0:,} entries, -D DIR -o MODE", fontsize=10)
    ax.set_ylim(0, top * 1.25 or 1)  # room for the legend above the bars
    ax.legend(fontsize=8, ncol=3, loc="upper center")


def latency(ax):
    drawn = False
    for who, label, colour in [("ours", "journalagent.service", OURS),
                               ("journalctl", "journalctl -f -o json", JOURNALCTL)]:
        rounds = S.get(("b", f"latency/{who}", "percentiles_ms"), {})
        if not rounds:
            continue
        per_q = []
        for q in range(101):
            vals = [r[q] for r in rounds.values() if r[q] is not None]
            per_q.append(statistics.median(vals) if vals else None)
        pts = [(v, q) for q, v in enumerate(per_q) if v is not None]
        drawn = drawn or bool(pts)
        ax.step([max(v, 0.1) for v, _ in pts], [q for _, q in pts], where="post", label=label,
                color=colour)
        p50, p99 = per_q[50], per_q[99]
        if p50 is not None and p99 is not None:
            ax.plot([max(p50, 0.1), max(p99, 0.1)], [50, 99], "o", color=colour, markersize=4)
    if not drawn:
        ax.text(0.5, 0.5, "no follow-mode samples in this run", transform=ax.transAxes,
                ha="center")
        return
    ax.set_xscale("log")
    ax.set_xlabel("ms from logging a line to reading it from the container's pipe (log scale)")
    ax.set_ylabel("% of probes arrived")
    ax.set_title("Follow: 1,000 single lines 2–18 ms apart, per round", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")


def main():
    load(sys.argv[1])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    throughput(axes[0])
    latency(axes[1])
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == "__main__":
    main()
