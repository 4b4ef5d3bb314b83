#!/usr/bin/python3
"""Probe arrival statistics from bench/pipe-stamp files.

    stamps.py FILE TAG EXPECTED
    stamps.py --pair FILE-A FILE-B TAG
    stamps.py --percentiles FILE TAG EXPECTED

Prints "n N p50_ms P p99_ms P max_ms M span_s S last_ns T": N probes of TAG arrived (of
EXPECTED); latency = arrival on the host pipe - send time in the probe; span = last arrival -
first send (the throughput of a burst is EXPECTED / span); T = the last arrival (CLOCK_REALTIME). Probes are counted once (the first arrival: a
forwarder restart may repeat some).
"""
import json
import statistics
import sys


def arrivals(path, tag):
    """{seq: (sent_ns, first_recv_ns)} for the probes of tag."""
    first = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) == 4 and p[0] == tag:
                seq, sent, recv = int(p[1]), int(p[2]), int(p[3])
                if seq not in first:
                    first[seq] = (sent, recv)
    return first


def pair(path_a, path_b, tag):
    """The same probes on two pipes: "first_pct P lead_ms L later N earlier N": A's line came
    first for P % of the probes, by a median of L ms (negative: A was earlier); A was more than
    100 ms later (one journald notification) for N probes, more than 100 ms earlier for N."""
    a, b = arrivals(path_a, tag), arrivals(path_b, tag)
    d = [(a[k][1] - b[k][1]) / 1e6 for k in a if k in b]
    if not d:
        print("first_pct nan lead_ms nan later 0 earlier 0")
        return
    print(f"first_pct {100 * sum(x < 0 for x in d) / len(d):.1f} lead_ms {statistics.median(d):.3f} "
          f"later {sum(x > 100 for x in d)} earlier {sum(x < -100 for x in d)}")


def latencies(path, tag):
    """Sorted latencies in ms of the probes of tag that arrived."""
    return sorted((recv - sent) / 1e6 for sent, recv in arrivals(path, tag).values())


def percentiles(path, tag, expected):
    """A JSON list of the latency percentiles 0, 1, ..., 100 in ms (nearest rank over all
    EXPECTED probes; null where the probe never arrived), for bench/chart.py."""
    lat = latencies(path, tag)
    out = []
    for q in range(101):
        k = max(1, -(-q * expected // 100)) - 1
        out.append(round(lat[k], 3) if k < len(lat) else None)
    print(json.dumps(out))


def main():
    if sys.argv[1] == "--pair":
        pair(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    if sys.argv[1] == "--percentiles":
        percentiles(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    path, tag, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    first = arrivals(path, tag)
    if not first:
        print("n 0 p50_ms nan p99_ms nan max_ms nan span_s nan last_ns 0")
        return
    lat = sorted((recv - sent) / 1e6 for sent, recv in first.values())
    n = len(lat)
    last = max(r for _, r in first.values())
    span = (last - min(s for s, _ in first.values())) / 1e9
    # Nearest-rank percentiles over all EXPECTED probes: missing ones count as infinitely late.
    def pct(q):
        k = max(1, -(-q * expected // 100)) - 1
        return lat[k] if k < n else float("inf")
    print(f"n {n} p50_ms {pct(50):.3f} p99_ms {pct(99):.3f} max_ms {lat[-1]:.3f} span_s {span:.6f} "
          f"last_ns {last}")


if __name__ == "__main__":
    main()
