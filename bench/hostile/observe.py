#!/usr/bin/python3
"""observe.py — what bench/hostile/run.sh measures besides the victim's figures: where the CPU
of the attack phase went, by thread kind, and what the server's own histograms saw. These do
not depend on how loaded the machine is (CPU seconds, not throughput), so they attribute the
victim's loss even on a shared machine.

    observe.py snap FD_PID PG_POSTMASTER_PID URL [PIDS] > snap.json  # CPU ticks + /metrics now
    observe.py diff BEFORE.json AFTER.json [extra-cpu-line ...]  # what happened in between

snap: feedbackd's CPU per thread name (/proc/PID/task/*/stat, names set by feedbackd:
fd-http, fd-writer, fd-editratio, fd-export, ...), the PostgreSQL cluster's CPU (the
postmaster and its children; a backend that exited in between is not counted) by
application_name (feedbackd names its connections after the opening thread: "feedbackd
fd-writer", "feedbackd fd-export", ...; PIDS is a file of "pid|application_name|backend_type"
lines from pg_stat_activity), and the
histograms of GET /metrics. diff prints the CPU seconds of each between the two snapshots and
each histogram's count, mean and approximate p50/p99 (bucket upper bounds) of what happened in
between.
"""
import json
import os
import re
import sys
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")
HISTOGRAMS = (("feedbackd_ingest_wait_duration_seconds", ""), ("feedbackd_ingest_commit_duration_seconds", ""),
              ("feedbackd_ingest_batch_size", ""), ("feedbackd_http_request_duration_seconds", 'route="feedback"'))
# edits stored: the attacker's rows (the victim posts ratings); parts' writer time and holds;
# large bodies' heads that waited for room (taken or refused after the wait); the edit-ratio
# and parse workers' CPU and budgets (a counter a build lacks adds 0)
COUNTERS = ("feedbackd_ingest_split_total", "feedbackd_ingest_rejected_total", 'feedbackd_events_stored_total{kind="edit"}',
            'feedbackd_ingest_held_total{outcome="taken"}', 'feedbackd_ingest_held_total{outcome="refused"}',
            "feedbackd_ingest_part_seconds_total", "feedbackd_ingest_bulk_throttled_seconds_total",
            "feedbackd_edit_ratio_computed_total", "feedbackd_edit_ratio_cpu_seconds_total",
            "feedbackd_edit_ratio_throttled_total", "feedbackd_edit_ratio_dropped_total",
            "feedbackd_parse_cpu_seconds_total", "feedbackd_parse_throttled_total")


def stat(path):
    with open(path) as f:
        s = f.read()
    name = s[s.index("(") + 1:s.rindex(")")]
    rest = s[s.rindex(")") + 2:].split()
    return name, int(rest[1]), int(rest[11]) + int(rest[12])  # comm, ppid, utime + stime


def threads(pid):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name, _, ticks = stat(f"/proc/{pid}/task/{tid}/stat")
        except (OSError, ValueError):
            continue
        out[name] = out.get(name, 0) + ticks
    return out


def cluster(postmaster, names):
    """{pid: [role, ticks]} of the postmaster and its children"""
    out = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            _, ppid, ticks = stat(f"/proc/{p}/stat")
        except (OSError, ValueError):
            continue
        if int(p) == postmaster or ppid == postmaster:
            out[p] = [names.get(p, "postmaster" if int(p) == postmaster else "other"), ticks]
    return out


def pid_names(path):
    names = {}
    if path:
        with open(path) as f:
            for line in f:
                pid, app, kind = (line.rstrip("\n").split("|") + ["", ""])[:3]
                names[pid] = app or kind
    return names


def metrics(url):
    try:
        text = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        m = re.match(r'^([a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+|\+Inf)$', line)
        if m:
            out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def snap(pid, postmaster, url, names):
    json.dump({"t": time.monotonic(), "fd": threads(pid), "pg": cluster(postmaster, pid_names(names)),
               "metrics": metrics(url)}, sys.stdout)


def histogram(name, label, before, after):
    """(count, sum, [(le, count)]) observed between the snapshots, the series holding label summed"""
    buckets, count, total = {}, 0.0, 0.0
    for k, v in after.items():
        if label not in k:
            continue
        d = v - before.get(k, 0.0)
        if k.startswith(name + "_bucket"):
            le = re.search(r'le="([^"]+)"', k).group(1)
            buckets[le] = buckets.get(le, 0.0) + d
        elif k.startswith(name + "_count"):
            count += d
        elif k.startswith(name + "_sum"):
            total += d
    order = sorted(buckets, key=lambda le: float("inf") if le == "+Inf" else float(le))
    return count, total, [(le, buckets[le]) for le in order]


def quantile(buckets, count, q):
    for le, c in buckets:
        if c >= q * count:
            return le
    return "?"


def diff(a, b, extra):
    secs = b["t"] - a["t"]
    what = extra.pop(0) if extra else "the interval"
    names = sorted(set(a["fd"]) | set(b["fd"]), key=lambda n: -(b["fd"].get(n, 0) - a["fd"].get(n, 0)))
    fd_total = sum(b["fd"].values()) - sum(a["fd"].values())
    print(f"CPU over {secs:.1f} s of {what} (seconds of one core; {os.cpu_count()} cores = "
          f"{secs * os.cpu_count():.0f} core-seconds available):")
    print(f"  feedbackd total {fd_total / TICK:6.2f}")
    for n in names:
        d = b["fd"].get(n, 0) - a["fd"].get(n, 0)
        if d:
            print(f"    {n:<16} {d / TICK:6.2f}")
    roles = {}
    for p, (role, ticks) in b["pg"].items():  # a backend born in between counts from 0
        roles[role] = roles.get(role, 0) + ticks - (a["pg"][p][1] if p in a["pg"] else 0)
    print(f"  PostgreSQL      {sum(roles.values()) / TICK:6.2f} ({len(b['pg'])} processes; exited ones not "
          f"counted), by application_name:")
    for role in sorted(roles, key=lambda r: -roles[r]):
        if roles[role]:
            print(f"    {role:<24} {roles[role] / TICK:6.2f}")
    for line in extra:
        print(f"  {line}")
    ma, mb = a["metrics"], b["metrics"]
    if not mb:
        return
    print("server histograms over the same interval (all projects; p50/p99 are bucket upper bounds):")
    for h, label in HISTOGRAMS:
        count, total, buckets = histogram(h, label, ma, mb)
        if count:
            unit = "" if h.endswith("size") else " s"
            print(f"  {h}{{{label}}}: n={count:.0f} mean={total / count:.4g}{unit} p50<={quantile(buckets, count, 0.5)}"
                  f" p99<={quantile(buckets, count, 0.99)}")
    for c in COUNTERS:
        d = sum(v - ma.get(k, 0.0) for k, v in mb.items() if k == c or k.startswith(c + "{"))
        print(f"  {c}: +{d:.0f}" if d == int(d) else f"  {c}: +{d:.2f}")


if __name__ == "__main__":
    if sys.argv[1] == "snap":
        snap(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else "")
    else:
        with open(sys.argv[2]) as f, open(sys.argv[3]) as g:
            diff(json.load(f), json.load(g), sys.argv[4:])
