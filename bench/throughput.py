#!/usr/bin/python3
"""Section a of make bench: batch throughput over the benchmark journal, and section c's batch
resources (peak RSS, CPU time) from the same runs.

    throughput.py --journal DIR --slice DIR --entries N --slice-entries N --rounds R \
        --agent build/journalagent --floor build/bench/floor --out results.jsonl --work DIR

Every round runs every variant once (tool x output mode x sink), in an order rotated by one per
round, so slow phases of a shared machine hit every variant alike. Before the rounds, one pass
of each variant into a checker (bytes, lines, and for the text modes a hash: the same output as
journalctl's, which also warms the page cache). After them, instruction counts under callgrind on
the journal's first file (the slice): the figure that does not depend on what else the machine
is doing. Raw samples go to --out as JSON lines; bench/report.py makes the table.
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time

MODES = ["json", "short-iso", "cat"]
# Functions whose inclusive cost bench/report.py shows.
PROFILED = {"sd_journal_next", "sd_journal_enumerate_data", "sd_journal_get_cursor",
            "json_append_entry", "output_write_all",
            "sd_journal_get_realtime_usec", "sd_journal_get_monotonic_usec"}
SINKS = ["null", "pipe"]


def command(tool, mode, journal, a):
    if tool == "ours":
        return [a.agent, "--to=stdout", "-D", journal, "-o", mode]
    if tool == "ours-atomic":
        # As on the container's stdout: writes of at most PIPE_BUF bytes of whole entries.
        return [a.agent, "--to=stdout", "--pipe-writes=atomic", "-D", journal, "-o", mode]
    if tool == "journalctl":
        return [a.journalctl, "--no-pager", "-D", journal, "-o", mode]
    return [a.floor, "-D", journal]


def variants():
    for mode in MODES:
        tools = ["ours", "journalctl"] + (["floor"] if mode == "json" else [])
        for tool in tools:
            for sink in SINKS:
                yield mode, tool, sink
    # Atomic writes differ from the default only into a pipe.
    yield "json", "ours-atomic", "pipe"


def run_once(cmd, sink):
    """Runs cmd with stdout to /dev/null or through a pipe into cat >/dev/null. Returns wall
    seconds (until the sink has read everything), and the producer's rusage."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        t0 = time.perf_counter()
        if sink == "null":
            p = subprocess.Popen(cmd, stdout=devnull, stderr=subprocess.DEVNULL)
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - t0
        else:
            r, w = os.pipe()
            cat = subprocess.Popen(["cat"], stdin=r, stdout=devnull)
            p = subprocess.Popen(cmd, stdout=w, stderr=subprocess.DEVNULL)
            os.close(r)
            os.close(w)
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            cat.wait()
            wall = time.perf_counter() - t0
    finally:
        os.close(devnull)
    if p.returncode != 0:
        sys.exit(f"throughput.py: {' '.join(cmd)} exited with {p.returncode}")
    return wall, ru


def check_output(cmd):
    """Bytes, lines and sha256 of what cmd prints."""
    h = hashlib.sha256()
    n = lines = 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as p:
        while True:
            b = p.stdout.read(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
            lines += b.count(b"\n")
    if p.returncode != 0:
        sys.exit(f"throughput.py: {' '.join(cmd)} exited with {p.returncode}")
    return n, lines, h.hexdigest()


def same_json(a_cmd, b_cmd):
    """Both print the same entries, in the same order, with the same keys and values (key order
    aside: journalctl's is random per run)."""
    a = subprocess.run(a_cmd, stdout=subprocess.PIPE, check=True).stdout.splitlines()
    b = subprocess.run(b_cmd, stdout=subprocess.PIPE, check=True).stdout.splitlines()
    return len(a) == len(b) and all(json.loads(x) == json.loads(y) for x, y in zip(a, b))


def callgrind(cmd, out_file):
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}"] + cmd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    with open(out_file) as f:
        for line in f:
            m = re.match(r"(?:summary|totals): (\d+)", line)
            if m:
                return int(m.group(1))
    sys.exit(f"throughput.py: no instruction total in {out_file}")


def inclusive_profile(out_file):
    """{function: inclusive instructions} from callgrind_annotate, the first (largest) line per
    function name."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", out_file], check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    incl = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*:(\S+)(?:\s|$)", line)
        if m and m.group(2) not in incl:
            incl[m.group(2)] = int(m.group(1).replace(",", ""))
    return incl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--journal", required=True)
    ap.add_argument("--slice", required=True)
    ap.add_argument("--entries", type=int, required=True)
    ap.add_argument("--slice-entries", type=int, required=True)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--agent", default="build/journalagent")
    ap.add_argument("--floor", default="build/bench/floor")
    ap.add_argument("--journalctl", default="journalctl")
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--no-callgrind", action="store_true")
    a = ap.parse_args()
    out = open(a.out, "a")

    def rec(case, metric, rnd, value):
        out.write(json.dumps({"sec": "a", "case": case, "metric": metric, "round": rnd,
                              "value": value}) + "\n")
        out.flush()

    def log(msg):
        print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)

    rec("journal", "entries", 0, a.entries)
    rec("journal", "slice_entries", 0, a.slice_entries)
    rec("journal", "bytes", 0, sum(os.path.getsize(os.path.join(a.journal, f))
                                   for f in os.listdir(a.journal)))

    # Check pass (also the warm-up): sizes, and ours against journalctl.
    log("a: check pass (output sizes, ours vs journalctl)")
    for mode in MODES:
        got = {}
        for tool in ["ours", "journalctl"] + (["floor"] if mode == "json" else []):
            got[tool] = check_output(command(tool, mode, a.journal, a))
            n, lines, digest = got[tool]
            rec(f"{mode}/{tool}", "bytes", 0, n)
            rec(f"{mode}/{tool}", "lines", 0, lines)
            rec(f"{mode}/{tool}", "sha256", 0, digest)
        if mode == "json":
            # Key order differs, so: same size and lines on the whole journal, same objects on
            # the slice (parsing 200,000 lines twice would take longer than the runs).
            same = got["ours"][:2] == got["journalctl"][:2] and same_json(
                command("ours", mode, a.slice, a), command("journalctl", mode, a.slice, a))
        else:
            same = got["ours"] == got["journalctl"]
        rec(f"{mode}/ours", "same_as_journalctl", 0, same)

    vs = list(variants())
    for rnd in range(1, a.rounds + 1):
        log(f"a: round {rnd} of {a.rounds} ({len(vs)} runs)")
        k = (rnd - 1) % len(vs)
        for mode, tool, sink in vs[k:] + vs[:k]:
            wall, ru = run_once(command(tool, mode, a.journal, a), sink)
            case = f"{mode}/{tool}/{sink}"
            rec(case, "wall_s", rnd, wall)
            rec(case, "cpu_s", rnd, ru.ru_utime + ru.ru_stime)
            rec(case, "rss_kb", rnd, ru.ru_maxrss)

    if a.no_callgrind:
        return
    for tool in ["ours", "floor", "journalctl"]:
        log(f"a: callgrind, {tool} -o json on the slice ({a.slice_entries} entries)")
        f = os.path.join(a.work, f"callgrind.{tool}")
        rec(f"json/{tool}", "instructions", 0, callgrind(command(tool, "json", a.slice, a), f))
        if tool == "ours":
            # Where the instructions go, for the profile table of the report.
            for fn, ir in inclusive_profile(f).items():
                if fn in PROFILED:
                    rec("json/ours", f"incl:{fn}", 0, ir)


if __name__ == "__main__":
    main()
