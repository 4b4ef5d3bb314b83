#!/usr/bin/python3
"""The table of make bench: medians and ratios from the raw samples of bench/run.sh.

    report.py RESULTS.jsonl RESULTS.md

Writes Markdown to RESULTS.md and prints it. Every figure is the median over the rounds; every
ratio is the median of the per-round ratios (the two runs it compares ran in the same round, one
shortly after the other, so a slow phase of a shared machine cancels out).
"""
import collections
import json
import random
import statistics
import sys

S = collections.defaultdict(dict)  # (sec, case, metric) -> {round: value}


def load(path):
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            S[(r["sec"], r["case"], r["metric"])][r["round"]] = r["value"]


def med(sec, case, metric):
    v = S.get((sec, case, metric))
    return statistics.median(v.values()) if v else None


def one(sec, case, metric):
    v = S.get((sec, case, metric))
    return next(iter(v.values())) if v else None


def paired(sec, num, den, metric, diff=False):
    a, b = S.get((sec, num, metric), {}), S.get((sec, den, metric), {})
    if diff:
        return [a[k] - b[k] for k in a if k in b]
    return [a[k] / b[k] for k in a if k in b and b[k]]


def ratio(sec, num, den, metric, diff=False):
    """Median over rounds of num/den (or num - den), both measured in that round."""
    rs = paired(sec, num, den, metric, diff)
    return statistics.median(rs) if rs else None


def iqr(sec, case, metric, den="boot/plain"):
    """The middle half of the per-round ratios, as "(a–b)": how noisy the median is."""
    rs = sorted(paired(sec, case, den, metric))
    if len(rs) < 4:
        return ""
    q = statistics.quantiles(rs, n=4)
    return f"({q[0]:.2f}–{q[2]:.2f})"


def interval(sec, num, den, metric, resamples=2000):
    """95 % bootstrap interval of the median per-round ratio, as "95 % a–b": how far the median
    itself could be from the truth with this many rounds (the IQR says how noisy one round is).
    Seeded, so the same samples give the same report."""
    rs = paired(sec, num, den, metric)
    if len(rs) < 10:
        return ""
    rng = random.Random(0)
    meds = sorted(statistics.median(rng.choices(rs, k=len(rs))) for _ in range(resamples))
    return f"95 % {meds[int(0.025 * resamples)]:.2f}–{meds[int(0.975 * resamples) - 1]:.2f}"


def n(x, digits=0):
    if x is None:
        return "–"
    return f"{x:,.{digits}f}"


def times(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}×"


def section_a(out):
    entries = one("a", "journal", "entries")
    if not entries:
        return {}
    slice_entries = one("a", "journal", "slice_entries")
    jbytes = one("a", "journal", "bytes")
    out.append(f"## a. Batch throughput\n")
    out.append(f"`PROGRAM -D DIR -o MODE` over {n(entries)} entries ({jbytes / 1e6:.0f} MB of journal "
               "files written by journald 252 in a container: 6 services, stdout/syslog/native "
               "transports, every priority, UTF-8, escapes, control bytes, a few long lines). "
               "Output to /dev/null, and through a pipe to `cat >/dev/null`. entries/s and MB/s "
               "of output from wall time; CPU = user + system of the program. Into a pipe of its "
               "own, journalagent writes up to 64 KiB of whole entries at a time, as the floor "
               "does; `--pipe-writes=atomic` is what it does on the container's stdout, which other "
               "writers share: at most PIPE_BUF (4,096) bytes of whole entries per write.\n")
    out.append("| mode | output | program | entries/s | MB/s | CPU s / 100k entries | "
               "journalctl ÷ this (wall) | journalctl ÷ this (CPU) | this ÷ floor (wall) | "
               "this ÷ floor (CPU) |")
    out.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    res = {}
    for mode in ["json", "short-iso", "cat"]:
        for sink in ["null", "pipe"]:
            for tool in ["ours", "ours-atomic", "journalctl", "floor"]:
                case = f"{mode}/{tool}/{sink}"
                wall = med("a", case, "wall_s")
                if wall is None:
                    continue
                cpu = med("a", case, "cpu_s")
                nbytes = one("a", f"{mode}/{tool.replace('-atomic', '')}", "bytes")
                jr = f"{mode}/journalctl/{sink}"
                vs_j = ratio("a", jr, case, "wall_s") if tool != "journalctl" else None
                vs_jc = ratio("a", jr, case, "cpu_s") if tool != "journalctl" else None
                vs_f = ratio("a", case, f"json/floor/{sink}", "wall_s") \
                    if tool.startswith("ours") and mode == "json" else None
                vs_fc = ratio("a", case, f"json/floor/{sink}", "cpu_s") \
                    if tool.startswith("ours") and mode == "json" else None
                name = {"ours": "journalagent",
                        "ours-atomic": "journalagent `--pipe-writes=atomic`",
                        "journalctl": "journalctl", "floor": "floor (raw fields)"}[tool]
                out.append(f"| {mode} | {'/dev/null' if sink == 'null' else 'pipe'} | {name} | "
                           f"{n(entries / wall)} | {n(nbytes / wall / 1e6) if nbytes else '–'} | "
                           f"{n(cpu / entries * 1e5, 2)} | {times(vs_j)} | {times(vs_jc)} | "
                           f"{times(vs_f, 2)} | {times(vs_fc, 2)} |")
                res[case] = dict(wall=wall, cpu=cpu, vs_j=vs_j, vs_jc=vs_jc, vs_f=vs_f, vs_fc=vs_fc)
    same = {m: one("a", f"{m}/ours", "same_as_journalctl") for m in ["json", "short-iso", "cat"]}
    out.append("")
    out.append("Output the same as journalctl's: " + ", ".join(
        f"{m} {'yes' if v else 'NO'}" for m, v in same.items() if v is not None) +
        " (json: same objects, key order aside, and same size; text modes: same bytes).\n")
    ins = {t: one("a", f"json/{t}", "instructions") for t in ["ours", "journalctl", "floor"]}
    if ins["ours"]:
        per = {t: v / slice_entries for t, v in ins.items() if v}
        out.append(f"Instructions per entry, `-o json` under callgrind on the journal's first file "
                   f"({n(slice_entries)} entries; independent of the machine's load): "
                   f"journalagent {n(per['ours'])}, journalctl {n(per.get('journalctl'))} "
                   f"({times(per.get('journalctl', 0) / per['ours'])} ours), floor "
                   f"{n(per.get('floor'))} (ours ÷ floor {times(per['ours'] / per['floor'], 2)}).\n")
        res["instr"] = per
    res["same"] = same
    return res


def section_b(out):
    if not S.get(("b", "latency/ours", "p99_ms")):
        return {}
    rounds = len(S[("b", "latency/ours", "p99_ms")])
    burst = one("b", "burst/ours", "arrived")
    backlog = one("b", "backlog/ours", "arrived")
    out.append("## b. Follow mode, end to end\n")
    out.append("One boot of Debian 12 (systemd 252, PID 1 via systemd-bootstrap) under systemd-nspawn, "
               "stdout and stderr pipes read on the host. journalagent.service as shipped writes to "
               "stdout; in the same boot `journalctl -f -o json --no-tail -b`, started through "
               "journalagent-attach, writes to stderr. Probes are logged inside with their send "
               "time in MESSAGE and timed when their line is read from the pipe on the host. "
               f"Per round: latency over 1,000 probes logged one by one (2–18 ms apart) and over "
               f"{n(one('b', 'sporadic/ours', 'sent') or 0)} sporadic ones "
               f"(200–800 ms apart: a quiet service); a live "
               f"burst of {n(burst or 0)} probes as fast as journald takes them; a backlog of "
               f"{n(backlog or 0)} probes logged while both followers are stopped (SIGSTOP), then "
               f"both continued (SIGCONT) and timed until the last line arrives. {rounds} rounds, "
               "medians.\n")
    out.append("| follower | latency p50 | latency p99 | latency max | sporadic p50 | sporadic max | "
               "live burst entries/s | backlog entries/s | ÷ journalctl (backlog) |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    res = {}
    for who, name in [("ours", "journalagent.service"), ("journalctl", "journalctl -f -o json")]:
        p50 = med("b", f"latency/{who}", "p50_ms")
        p99 = med("b", f"latency/{who}", "p99_ms")
        mx = med("b", f"latency/{who}", "max_ms")
        span = med("b", f"burst/{who}", "span_s")
        rate = burst / span if span and burst else None
        bspan = med("b", f"backlog/{who}", "span_s")
        brate = backlog / bspan if bspan and backlog else None
        vs = ratio("b", "backlog/journalctl", "backlog/ours", "span_s") if who == "ours" else None
        sp50 = med("b", f"sporadic/{who}", "p50_ms")
        smax = S.get(("b", f"sporadic/{who}", "max_ms"))
        smax = max(smax.values()) if smax else None
        out.append(f"| {name} | {n(p50)} ms | {n(p99)} ms | {n(mx)} ms | {n(sp50)} ms | "
                   f"{n(smax)} ms | {n(rate)} | {n(brate)} | {times(vs)} |")
        res[who] = dict(p50=p50, p99=p99, rate=rate, brate=brate)
    fp = med("b", "latency/pair", "ours_first_pct")
    if fp is not None:
        later = sum(S[("b", "latency/pair", "ours_later_100ms")].values())
        earlier = sum(S[("b", "latency/pair", "ours_earlier_100ms")].values())
        total = rounds * 1000
        out.append(f"\nProbe by probe, single entries: journalagent's line arrived first for "
                   f"{fp:.0f} % of the probes, by a median of {-med('b', 'latency/pair', 'lead_ms'):.2f} "
                   f"ms. {later} of {n(total)} probes reached journalagent one journald "
                   f"notification (≥ 100 ms) after journalctl, {earlier} the other way round: "
                   "journald maps a new entry into the file at once but tells readers up to 250 ms "
                   "later; journalctl waits for that, journalagent looks again every 10 ms while "
                   "the journal is busy (for 1 s after the last new entry).")
        res["later"] = later
        res["earlier"] = earlier
    sent = one("b", "probes/all", "sent")
    if sent:
        miss = {w: one("b", f"probes/{w}", "missing") for w in ["ours", "journalctl"]}
        out.append(f"\nProbes that never reached the pipe (of {n(sent)} logged in section b): "
                   f"journalagent {n(miss['ours'])}, journalctl {n(miss['journalctl'])}. "
                   "Sporadic latencies are taken at the end of the section, so a probe that came "
                   "through only with later traffic counts with its real latency.")
        res["missing"] = miss
    gen = med("b", "burst/loggen", "span_s")
    if gen:
        out.append(f"\njournald took the live burst at {n(burst / gen)} entries/s (the generator's "
                   "send rate): the end-to-end rate of a live burst cannot exceed it. journald tells "
                   "readers about new entries after a coalescing delay of up to 250 ms: journalctl "
                   "waits for it every time, journalagent only for the first entry after a second "
                   "without any (the first probes of a round after a quiet gap, which set its p99 "
                   "and max). Both followers share the machine's 2 cores while they catch up with "
                   "the backlog.\n")
    return res


def section_c(out, ra):
    out.append("## c. Resources\n")
    out.append("| program | peak RSS | CPU s per 100k entries |")
    out.append("| --- | ---: | ---: |")
    entries = one("a", "journal", "entries")
    res = {}
    rows = [("a", "json/ours/null", "journalagent -D -o json (batch)"),
            ("a", "json/journalctl/null", "journalctl -D -o json (batch)"),
            ("a", "json/floor/null", "floor (batch)")]
    for sec, case, name in rows:
        rss = med(sec, case, "rss_kb")
        cpu = med(sec, case, "cpu_s")
        if rss is None:
            continue
        out.append(f"| {name} | {rss / 1024:.1f} MiB | {n(cpu / entries * 1e5, 2)} |")
        res[case] = rss
    for who, name in [("ours", "journalagent.service (follow)"),
                      ("journalctl", "journalctl -f (follow)"),
                      ("broker", "journalagent-broker")]:
        rss = one("c", f"follow/{who}", "rss_kb")
        anon = one("c", f"follow/{who}", "anon_kb")
        cpu = med("c", f"follow/{who}", "cpu_s_per_100k")
        bcpu = med("c", f"backlog/{who}", "cpu_s_per_100k")
        if rss is None:
            continue
        cpu_txt = f"{n(cpu, 2)} live" + (f", {n(bcpu, 2)} backlog" if bcpu is not None else "")
        anon_txt = f" ({anon / 1024:.1f} MiB private)" if anon is not None else ""
        out.append(f"| {name} | {rss / 1024:.1f} MiB{anon_txt} | {cpu_txt} |")
        res[f"follow/{who}"] = rss
    out.append("\nBatch: the programs' own rusage (ru_maxrss; the journal files are mmapped and "
               "their pages count, which is why the floor needs as much). Follow: VmHWM over the "
               "whole boot (catching up with it, the probes, the bursts), in brackets RssAnon at "
               "the end (memory of its own, not journal file pages); CPU time (schedstat) during "
               "the live bursts and the backlogs of section b. The broker has no part in "
               "forwarding entries, only in handing out the fds (section e).\n")
    return res


def section_d(out):
    configs = ["plain", "no-shim", "shim", "file", "no-accept", "masked"]
    if not S.get(("d", "boot/plain", "wall_ms")):
        return {}
    boots = len(S[("d", "boot/plain", "wall_ms")])
    out.append("## d. PID 1: boot to \"Startup finished\"\n")
    out.append(f"{boots} fresh boots per configuration (systemd-nspawn --volatile=overlay), "
               "configurations interleaved. wall: systemd-nspawn's exec on the host to PID 1's "
               "READY=1 on the host (includes the entrypoint and the shim's constructor); "
               "userspace: systemd's FinishTimestamp − UserspaceTimestamp; PID 1 CPU: the CPU "
               "time PID 1 used up to READY=1, shim included (the least disturbed by other work "
               "on the machine). IQR: the middle half of the per-round ratios, i.e. the noise of "
               "one boot; the targets give a 95 % bootstrap interval of the median, the noise of "
               "the whole run.\n")
    out.append("| configuration | wall | ÷ plain (IQR) | userspace | ÷ plain (IQR) | PID 1 CPU | ÷ plain (IQR) |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    desc = {"plain": "plain Debian 12, systemd as PID 1",
            "no-shim": "our units, systemd as PID 1 (no shim)",
            "shim": "our units, systemd-bootstrap (shim)",
            "file": "shim, socket path is a regular file",
            "no-accept": "shim, socket nobody accepts on",
            "masked": "shim, broker service masked"}
    res = {}
    for c in configs:
        w = med("d", f"boot/{c}", "wall_ms")
        u = med("d", f"boot/{c}", "userspace_ms")
        if w is None:
            continue
        rw = ratio("d", f"boot/{c}", "boot/plain", "wall_ms") if c != "plain" else None
        ru = ratio("d", f"boot/{c}", "boot/plain", "userspace_ms") if c != "plain" else None
        dw = ratio("d", f"boot/{c}", "boot/plain", "wall_ms", diff=True) if c != "plain" else None
        cpu = med("d", f"boot/{c}", "pid1_cpu_ms")
        rc = ratio("d", f"boot/{c}", "boot/plain", "pid1_cpu_ms") if c != "plain" else None
        out.append(f"| {desc[c]} | {n(w)} ms | {times(rw, 3)} {iqr('d', f'boot/{c}', 'wall_ms')} | "
                   f"{n(u)} ms | {times(ru, 3)} {iqr('d', f'boot/{c}', 'userspace_ms')} | "
                   f"{n(cpu)} ms | {times(rc, 3)} {iqr('d', f'boot/{c}', 'pid1_cpu_ms')} |")
        res[c] = dict(wall=w, user=u, rw=rw, ru=ru, dw=dw, rc=rc)
    if "shim" in res and "no-shim" in res:
        out.append("\nThe shim alone (the same image booted with systemd-bootstrap ÷ with "
                   "/usr/lib/systemd/systemd as entrypoint, per round): wall "
                   f"{times(ratio('d', 'boot/shim', 'boot/no-shim', 'wall_ms'), 3)} "
                   f"{iqr('d', 'boot/shim', 'wall_ms', 'boot/no-shim')}, userspace "
                   f"{times(ratio('d', 'boot/shim', 'boot/no-shim', 'userspace_ms'), 3)} "
                   f"{iqr('d', 'boot/shim', 'userspace_ms', 'boot/no-shim')}, PID 1 CPU "
                   f"{times(ratio('d', 'boot/shim', 'boot/no-shim', 'pid1_cpu_ms'), 3)} "
                   f"{iqr('d', 'boot/shim', 'pid1_cpu_ms', 'boot/no-shim')}.")
        res["shim_vs_noshim"] = ratio("d", "boot/shim", "boot/no-shim", "wall_ms")
    out.append("")
    return res


def section_e(out):
    if not S.get(("e", "fetch/c1", "per_second")):
        return {}
    out.append("## e. Broker\n")
    out.append("bench/fetch-load inside the container of section b: connect, FETCH stdout+stderr, "
               "receive the fds, close; 2,000 fetches per run, one client or four at once.\n")
    out.append("| clients | fetches/s | latency p50 | latency p99 | broker CPU per fetch | "
               "PID 1 CPU per fetch |")
    out.append("| ---: | ---: | ---: | ---: | ---: | ---: |")
    res = {}
    for c in [1, 4]:
        case = f"fetch/c{c}"
        out.append(f"| {c} | {n(med('e', case, 'per_second'))} | {n(med('e', case, 'p50_us'))} µs | "
                   f"{n(med('e', case, 'p99_us'))} µs | "
                   f"{n(med('e', case, 'broker_cpu_us_per_fetch'))} µs | "
                   f"{n(med('e', case, 'pid1_cpu_us_per_fetch'))} µs |")
        res[c] = med("e", case, "per_second")
    out.append("\nPID 1 works for the fetches because the broker sends it STATUS= lines (the "
               "served count), at most one a second.\n")
    return res


def targets(out, ra, rb, rc, rd):
    out.append("## Targets\n")
    out.append("| target | result | met |")
    out.append("| --- | --- | --- |")

    def row(name, result, ok):
        out.append(f"| {name} | {result} | {'yes' if ok else '**no**'} |")

    j = ra.get("json/ours/null")
    if j:
        jp = ra.get("json/ours/pipe")
        row("JSON ≥ 4× faster than journalctl",
            f"{times(j['vs_j'])} (/dev/null), {times(jp['vs_j'])} (pipe), wall; "
            f"{times(j['vs_jc'])} CPU", min(j["vs_j"], jp["vs_j"]) >= 4)
        ins = ra["instr"]["ours"] / ra["instr"]["floor"] if "instr" in ra else None
        row("JSON within 1.5× of the floor (to /dev/null)",
            f"{times(ins, 2)} in instructions; CPU {times(j['vs_fc'], 2)}; wall {times(j['vs_f'], 2)}",
            max(j["vs_fc"], j["vs_f"], ins or 0) <= 1.5)
        # On the container's stdout we write at most PIPE_BUF bytes of whole entries at a time
        # (other writers there interleave only between entries): shown beside the target.
        ja = ra.get("json/ours-atomic/pipe")
        row("JSON within 1.5× of the floor (into a pipe)",
            f"CPU {times(jp['vs_fc'], 2)}; wall {times(jp['vs_f'], 2)} (writes of up to 64 KiB, as "
            f"the floor's)" + (f"; with the container stdout's atomic writes of ≤ 4,096 bytes: CPU "
                               f"{times(ja['vs_fc'], 2)}, wall {times(ja['vs_f'], 2)}" if ja else ""),
            max(jp["vs_fc"], jp["vs_f"]) <= 1.5)
        row("output identical to journalctl's",
            ", ".join(f"{m} {'yes' if v else 'no'}" for m, v in ra["same"].items()),
            all(ra["same"].values()))
    if rb:
        row("follow p99 no worse than journalctl -f",
            f"{n(rb['ours']['p99'])} ms vs {n(rb['journalctl']['p99'])} ms (median of per-round "
            f"p99s); backlog {times(rb['ours']['brate'] / rb['journalctl']['brate'])} as fast"
            + (f"; probes never arrived: {n(rb['missing']['ours'])} vs {n(rb['missing']['journalctl'])}"
               if "missing" in rb else ""),
            rb["ours"]["p99"] <= rb["journalctl"]["p99"] and
            rb.get("missing", {}).get("ours", 0) <= rb.get("missing", {}).get("journalctl", 0))
    if "json/ours/null" in rc and "json/journalctl/null" in rc:
        ok = rc["json/ours/null"] < rc["json/journalctl/null"]
        txt = f"batch {rc['json/ours/null'] / 1024:.1f} vs {rc['json/journalctl/null'] / 1024:.1f} MiB"
        if "follow/ours" in rc and "follow/journalctl" in rc:
            ok = ok and rc["follow/ours"] < rc["follow/journalctl"]
            txt += (f"; follow {rc['follow/ours'] / 1024:.1f} vs "
                    f"{rc['follow/journalctl'] / 1024:.1f} MiB")
        row("RSS below journalctl's", txt, ok)
    if "shim" in rd:
        s = rd["shim"]
        worst = max(rd[c]["rw"] for c in ("shim", "file", "no-accept", "masked") if c in rd)
        row("PID 1 boot within 5 % of plain systemd",
            f"shim {times(s['rw'], 3)} ({interval('d', 'boot/shim', 'boot/plain', 'wall_ms')}) "
            f"(wall), {times(s['ru'], 3)} "
            f"({interval('d', 'boot/shim', 'boot/plain', 'userspace_ms')}) (userspace), "
            f"{times(s['rc'], 3)} (PID 1 CPU); shim ÷ same image without it "
            f"{times(rd.get('shim_vs_noshim'), 3)} "
            f"({interval('d', 'boot/shim', 'boot/no-shim', 'wall_ms')}) (wall); worst hostile "
            f"broker {times(worst, 3)} (wall)",
            s["rw"] <= 1.05 and s["ru"] <= 1.05)
        hostile = {c: rd[c]["dw"] for c in ("file", "no-accept", "masked") if c in rd}
        row("hostile or absent broker: boot ≤ 100 ms longer than plain systemd",
            ", ".join(f"{c} {v:+.0f} ms" for c, v in hostile.items()) + " (wall, median of paired "
            "differences)", all(v <= 100 for v in hostile.values()))
    out.append("")


PROFILE = [
    ("sd_journal_next", "sd_journal_next", "find the next entry (libsystemd; the floor does it too)"),
    ("sd_journal_enumerate_data", "sd_journal_enumerate_data",
     "read the fields (libsystemd; the floor does it too)"),
    ("sd_journal_get_cursor", "sd_journal_get_cursor", "the cursor (libsystemd, asprintf inside)"),
    ("output_write_all", "output_write_all", "write()"),
]
# json_append_entry's own work: what it costs minus the calls above and the timestamps.
ENTRY_CALLEES = ["sd_journal_enumerate_data", "sd_journal_get_realtime_usec",
                 "sd_journal_get_monotonic_usec"]


def profile(out, ra):
    incl = {k[2][5:]: v[0] for k, v in S.items() if k[:2] == ("a", "json/ours") and k[2].startswith("incl:")}
    total = one("a", "json/ours", "instructions")
    slice_entries = one("a", "journal", "slice_entries")
    if not incl or not total:
        return
    out.append("## Where journalagent -o json spends its instructions\n")
    out.append("callgrind on the slice, inclusive cost (a function and what it calls):\n")
    out.append("| function | what | % of instructions | per entry |")
    out.append("| --- | --- | ---: | ---: |")
    for sym, name, what in PROFILE:
        if sym in incl:
            out.append(f"| `{name}` | {what} | {incl[sym] / total * 100:.1f} % | "
                       f"{n(incl[sym] / slice_entries)} |")
    if "json_append_entry" in incl:
        ir = incl["json_append_entry"] - sum(incl.get(c, 0) for c in ENTRY_CALLEES)
        out.append(f"| `json_append_entry` (rest) | its own work: checking field names, spotting "
                   f"repeated ones, the UTF-8 check and escaping of the values, the header | "
                   f"{ir / total * 100:.1f} % | {n(ir / slice_entries)} |")
    if "instr" in ra:
        out.append(f"\nThe floor needs {n(ra['instr']['floor'])} instructions per entry in all; "
                   f"journalagent {n(ra['instr']['ours'])}.\n")
    out.append("")


def summary(out):
    """The headline table (README.md's "Benchmarks" carries it)."""
    rows = []
    entries = one("a", "journal", "entries")

    def rate(case):
        w = med("a", case, "wall_s")
        return entries / w if w and entries else None

    for mode, tool, sink, label in [
            ("json", "ours", "null", "`-o json` → /dev/null"),
            ("json", "ours", "pipe", "`-o json` → pipe"),
            ("json", "ours-atomic", "pipe", "`-o json` → pipe, `--pipe-writes=atomic`"),
            ("short-iso", "ours", "null", "`-o short-iso` → /dev/null"),
            ("cat", "ours", "null", "`-o cat` → /dev/null")]:
        o, j = rate(f"{mode}/{tool}/{sink}"), rate(f"{mode}/journalctl/{sink}")
        if o is None:
            continue
        f = rate(f"json/floor/{sink}") if mode == "json" else None
        vs = ratio("a", f"{mode}/journalctl/{sink}", f"{mode}/{tool}/{sink}", "wall_s")
        vsc = ratio("a", f"{mode}/journalctl/{sink}", f"{mode}/{tool}/{sink}", "cpu_s")
        txt = f"{times(vs)} journalctl ({times(vsc)} in CPU)"
        if f:
            txt += (f"; {times(ratio('a', f'json/{tool}/{sink}', f'json/floor/{sink}', 'wall_s'), 2)} "
                    f"the floor ({times(ratio('a', f'json/{tool}/{sink}', f'json/floor/{sink}', 'cpu_s'), 2)}"
                    " in CPU)")
        rows.append((f"batch {label}, entries/s", n(o), n(j), n(f) if f else "", txt))
    slice_entries = one("a", "journal", "slice_entries")
    ins = {t: one("a", f"json/{t}", "instructions") for t in ["ours", "journalctl", "floor"]}
    if all(ins.values()):
        rows.append(("`-o json` instructions per entry (callgrind)", n(ins["ours"] / slice_entries),
                     n(ins["journalctl"] / slice_entries), n(ins["floor"] / slice_entries),
                     f"journalctl {times(ins['journalctl'] / ins['ours'])}; "
                     f"{times(ins['ours'] / ins['floor'], 2)} the floor"))
    if S.get(("b", "latency/ours", "p50_ms")):
        lat = {w: (med("b", f"latency/{w}", "p50_ms"), med("b", f"latency/{w}", "p99_ms"))
               for w in ["ours", "journalctl"]}
        rows.append(("follow: latency p50 / p99, entries 2–18 ms apart",
                     f"{n(lat['ours'][0])} / {n(lat['ours'][1])} ms",
                     f"{n(lat['journalctl'][0])} / {n(lat['journalctl'][1])} ms", "",
                     "journalctl waits for journald's notification; journalagent re-checks "
                     "every 10 ms while entries come"))
        sp = {w: med("b", f"sporadic/{w}", "p50_ms") for w in ["ours", "journalctl"]}
        if sp["ours"] is not None:
            rows.append(("follow: latency p50, entries 200–800 ms apart", f"{n(sp['ours'])} ms",
                         f"{n(sp['journalctl'])} ms", "", ""))
        backlog = one("b", "backlog/ours", "arrived")
        bs = {w: med("b", f"backlog/{w}", "span_s") for w in ["ours", "journalctl"]}
        if backlog and all(bs.values()):
            rows.append(("follow: catching up with a backlog, entries/s", n(backlog / bs["ours"]),
                         n(backlog / bs["journalctl"]), "",
                         f"{times(ratio('b', 'backlog/journalctl', 'backlog/ours', 'span_s'))} journalctl"))
        cpu = {w: med("c", f"follow/{w}", "cpu_s_per_100k") for w in ["ours", "journalctl"]}
        if all(v is not None for v in cpu.values()):
            rows.append(("follow: CPU s per 100k entries", n(cpu["ours"], 2), n(cpu["journalctl"], 2),
                         "", f"{times(cpu['journalctl'] / cpu['ours'])} less"))
        rss = {w: one("c", f"follow/{w}", "rss_kb") for w in ["ours", "journalctl", "broker"]}
        anon = {w: one("c", f"follow/{w}", "anon_kb") for w in ["ours", "journalctl", "broker"]}
        if all(rss.values()) and all(v is not None for v in anon.values()):
            rows.append(("follow: peak RSS (private)",
                         f"{rss['ours'] / 1024:.1f} MiB ({anon['ours'] / 1024:.1f})",
                         f"{rss['journalctl'] / 1024:.1f} MiB ({anon['journalctl'] / 1024:.1f})", "",
                         f"broker {rss['broker'] / 1024:.1f} MiB ({anon['broker'] / 1024:.1f})"))
    brss = {t: med("a", f"json/{t}/null", "rss_kb") for t in ["ours", "journalctl", "floor"]}
    if all(brss.values()):
        rows.append(("batch: peak RSS (mostly the mmapped journal)", f"{brss['ours'] / 1024:.0f} MiB",
                     f"{brss['journalctl'] / 1024:.0f} MiB", f"{brss['floor'] / 1024:.0f} MiB", ""))
    if S.get(("d", "boot/shim", "wall_ms")):
        b = {c: med("d", f"boot/{c}", "wall_ms") for c in ["plain", "shim"]}
        rows.append(("PID 1: boot to Startup finished (wall), shim vs plain systemd",
                     f"{n(b['shim'])} ms", f"{n(b['plain'])} ms (plain)", "",
                     f"{times(ratio('d', 'boot/shim', 'boot/plain', 'wall_ms'), 3)}; PID 1 CPU "
                     f"{times(ratio('d', 'boot/shim', 'boot/plain', 'pid1_cpu_ms'), 3)}"))
    if S.get(("e", "fetch/c1", "per_second")):
        rows.append(("broker: fetches/s, one client (p50 / p99)", f"{n(med('e', 'fetch/c1', 'per_second'))} "
                     f"({n(med('e', 'fetch/c1', 'p50_us'))} / {n(med('e', 'fetch/c1', 'p99_us'))} µs)",
                     "", "", f"PID 1 CPU {n(med('e', 'fetch/c1', 'pid1_cpu_us_per_fetch'))} µs per fetch"))
    if not rows:
        return
    out.append("## Summary\n")
    out.append("| measurement | journalagent | journalctl | floor | journalagent is |")
    out.append("| --- | ---: | ---: | ---: | --- |")
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    out.append("")


def main():
    load(sys.argv[1])
    meta = {r: one("meta", r, "text") for r in ["date", "machine", "software", "commit", "load"]}
    out = ["# journalagent benchmarks\n"]
    out.append(f"Last run: {meta['date']}, commit {meta['commit']}. Machine: {meta['machine']}; "
               f"{meta['software']}. Load average before/after: {meta['load']} (other work was "
               "running: that is why every figure is a median of interleaved rounds, ratios are "
               "paired per round, and instruction counts are given too).\n")
    out.append("Reproduce: `sudo make bench` (10 minutes here; the first run also debootstraps "
               "Debian 12 and writes the benchmark journal, both cached under "
               "`${JA_CACHE:-/var/cache/journalagent}`).\n")
    summary(out)
    ra = section_a(out)
    rb = section_b(out)
    rc = section_c(out, ra)
    rd = section_d(out)
    section_e(out)
    targets(out, ra, rb, rc, rd)
    profile(out, ra)
    text = "\n".join(out).rstrip() + "\n"
    with open(sys.argv[2], "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
