"""GET /metrics (docs/api.md "Health and metrics"): a well-formed Prometheus text exposition
(format 0.0.4) that follows the naming conventions, and numbers that move with traffic.

The parser here is deliberately small and strict: every sample must belong to a family
declared by a TYPE line before it, counters end in _total, histograms have cumulative
buckets with increasing `le` ending in +Inf equal to _count, and no series appears twice."""

import math
import re

import pytest

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?,?\}})? (\S+)(?: (-?\d+))?$")


def parse_value(s):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("Inf", "inf").replace("NaN", "nan"))
    return float(s)  # raises on anything else


def parse(text):
    """-> {family: {"type", "help", "samples": [(name, labels dict, value)]}}; asserts the format."""
    assert text.endswith("\n"), "the exposition must end with a newline"
    families, current = {}, None
    seen_series = set()
    for n, line in enumerate(text.split("\n")[:-1], 1):
        assert line.strip() == line and line, f"line {n}: empty line or stray whitespace: {line!r}"
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert re.fullmatch(NAME, name) and help_text, f"line {n}: bad HELP {line!r}"
            fam = families.setdefault(name, {"type": None, "help": None, "samples": []})
            assert fam["help"] is None, f"line {n}: second HELP for {name}"
            assert not fam["samples"], f"line {n}: HELP for {name} after its samples"
            fam["help"] = help_text
            continue
        if line.startswith("# TYPE "):
            parts = line[7:].split(" ")
            assert len(parts) == 2 and re.fullmatch(NAME, parts[0]), f"line {n}: bad TYPE {line!r}"
            assert parts[1] in ("counter", "gauge", "histogram", "summary", "untyped"), f"line {n}: type {parts[1]}"
            fam = families.setdefault(parts[0], {"type": None, "help": None, "samples": []})
            assert fam["type"] is None, f"line {n}: second TYPE for {parts[0]}"
            assert not fam["samples"], f"line {n}: TYPE for {parts[0]} after its samples"
            fam["type"] = parts[1]
            current = parts[0]
            continue
        assert not line.startswith("#") or line.startswith("# "), f"line {n}: bad comment {line!r}"
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"line {n}: not a sample line: {line!r}"
        name, labeltext, value = m.group(1), m.group(2) or "", m.group(7)
        labels = dict(re.findall(LABEL, labeltext))
        assert len(labels) == len(re.findall(LABEL, labeltext)), f"line {n}: a label twice: {line!r}"
        v = parse_value(value)
        # the sample belongs to the family declared last (samples of a family are contiguous)
        assert current is not None, f"line {n}: sample before any TYPE: {line!r}"
        fam = families[current]
        allowed = {current} if fam["type"] in ("counter", "gauge", "untyped") else \
            {current + "_bucket", current + "_sum", current + "_count"}
        assert name in allowed, f"line {n}: {name} does not belong to the declared {fam['type']} {current}"
        series = (name, tuple(sorted(labels.items())))
        assert series not in seen_series, f"line {n}: the series {name}{labels} appears twice"
        seen_series.add(series)
        fam["samples"].append((name, labels, v))
    return families


def check_histogram(family, fam):
    by_labels = {}
    for name, labels, v in fam["samples"]:
        key = tuple(sorted((k, val) for k, val in labels.items() if k != "le"))
        h = by_labels.setdefault(key, {"buckets": [], "sum": None, "count": None})
        if name.endswith("_bucket"):
            assert "le" in labels, f"{family}: bucket without le"
            h["buckets"].append((parse_value(labels["le"]), v))
        elif name.endswith("_sum"):
            h["sum"] = v
        else:
            h["count"] = v
    assert by_labels, f"{family}: a histogram without samples"
    for key, h in by_labels.items():
        les = [le for le, _ in h["buckets"]]
        counts = [c for _, c in h["buckets"]]
        assert les and les[-1] == math.inf, f"{family}{key}: the last bucket must be le=\"+Inf\""
        assert les == sorted(les) and len(set(les)) == len(les), f"{family}{key}: le not increasing: {les}"
        assert counts == sorted(counts), f"{family}{key}: buckets not cumulative: {counts}"
        assert h["count"] is not None and h["sum"] is not None, f"{family}{key}: _sum and _count needed"
        assert counts[-1] == h["count"], f"{family}{key}: +Inf bucket {counts[-1]} != _count {h['count']}"
        assert h["sum"] >= 0 and all(c == int(c) and c >= 0 for c in counts)


def scrape(fd):
    r = fd.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers["Content-Type"]
    return parse(r.text)


def value(families, family, name=None, **labels):
    for n, l, v in families.get(family, {"samples": []})["samples"]:
        if n == (name or family) and l == {k: str(x) for k, x in labels.items()}:
            return v
    return 0.0


@pytest.fixture(scope="module")
def traffic(feedbackd):
    """Requests that make every family have samples, including two routes that share a
    name in the routing table (GET and POST /v1/feedback) answering the same status."""
    fd = feedbackd
    assert fd.get("/healthz").status_code == 200
    assert fd.get("/v1/stats", key="read").status_code == 200
    assert fd.get("/v1/feedback", key="read", params={"limit": "0"}).status_code == 400
    assert fd.post("/v1/feedback", key="ingest", data="{", headers={"Content-Type": "application/json"}).status_code == 400
    assert fd.get("/v1/project", key="admin").status_code == 200
    assert fd.get("/no/such/route", key="admin").status_code == 404
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": [
        {"id": f"mt-{i}", "kind": "rating", "message_id": "m1", "value": 1} for i in range(3)]})
    assert r.status_code == 200, r.text
    return fd


def test_exposition_is_well_formed(traffic):
    families = scrape(traffic)
    assert families, "no metric families"
    for family, fam in families.items():
        assert fam["type"], f"{family}: samples or HELP without TYPE"
        assert fam["help"], f"{family}: no HELP"
        assert family.startswith("feedbackd_"), f"{family}: not in the feedbackd_ namespace"
        if fam["type"] == "histogram":
            check_histogram(family, fam)


def test_names_follow_prometheus_conventions(traffic):
    families = scrape(traffic)
    for family, fam in families.items():
        if fam["type"] == "counter":
            assert family.endswith("_total"), f"counter {family} must end in _total"
        else:
            assert not family.endswith("_total"), f"{fam['type']} {family} must not end in _total"
        if "duration" in family or "latency" in family:
            assert family.endswith("_seconds"), f"{family}: durations are in seconds, named so"
        assert not re.search(r"_(ms|milliseconds|us|microseconds)(_|$)", family), f"{family}: use base units"


def test_the_families_of_api_md_exist(traffic):
    """requests by route and status, latency histogram, events stored by kind, ingest queue
    depth, batch sizes, DB errors, export rows."""
    families = scrape(traffic)
    types = {f: fam["type"] for f, fam in families.items()}
    assert types.get("feedbackd_http_requests_total") == "counter"
    assert types.get("feedbackd_http_request_duration_seconds") == "histogram"
    assert types.get("feedbackd_events_stored_total") == "counter"
    assert types.get("feedbackd_ingest_queue_depth") == "gauge"
    assert types.get("feedbackd_ingest_batch_size") == "histogram"
    assert types.get("feedbackd_db_errors_total") == "counter"
    assert types.get("feedbackd_export_records_total") == "counter"


def test_counters_move_with_traffic(traffic):
    fd = traffic
    before = scrape(fd)
    assert fd.get("/v1/stats", key="read").status_code == 200
    assert fd.get("/v1/stats", key="read", params={"bucket": "year"}).status_code == 400
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": [
        {"id": f"mt2-{i}", "kind": "comment", "message_id": "m1", "comment": "x"} for i in range(4)]})
    assert r.status_code == 200, r.text
    after = scrape(fd)

    def delta(family, name=None, **labels):
        return value(after, family, name, **labels) - value(before, family, name, **labels)

    req = "feedbackd_http_requests_total"
    ok = [l for n, l, _ in after[req]["samples"] if l.get("route") == "stats" and l.get("status") == "200"]
    assert len(ok) == 1, ok
    assert delta(req, **ok[0]) == 1
    bad = dict(ok[0], status="400")
    assert delta(req, **bad) == 1
    assert delta("feedbackd_events_stored_total", kind="comment") == 4
    lat = "feedbackd_http_request_duration_seconds"
    stats_count = [l for n, l, _ in after[lat]["samples"] if n == lat + "_count" and l.get("route") == "stats"]
    assert stats_count and sum(delta(lat, lat + "_count", **l) for l in stats_count) == 2


def test_duplicates_and_conflicts_are_counted(feedbackd):
    """feedbackd_events_duplicate_total and _conflict_total count the items answered
    "duplicate" and "conflict" (events and messages); the expected numbers are this test's."""
    fd = feedbackd
    before = scrape(fd)
    first = [{"id": f"dc-{i}", "kind": "rating", "message_id": "m1", "value": 1} for i in range(5)]
    assert fd.post("/v1/feedback/batch", key="ingest", json={"events": first}).status_code == 200
    # 3 resent unchanged (duplicates), 2 with another value (conflicts), 1 new (stored)
    again = first[:3] + [dict(e, value=-1) for e in first[3:]] + [
        {"id": "dc-new", "kind": "rating", "message_id": "m1", "value": 1}]
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": again})
    assert r.status_code == 200, r.text
    statuses = [i["status"] if i["status"] != "error" else i["error"]["code"] for i in r.json()["results"]]
    assert statuses == ["duplicate"] * 3 + ["conflict"] * 2 + ["stored"], statuses
    # single events: one duplicate (200) and one conflict (409)
    assert fd.post("/v1/feedback", key="ingest", json=first[0]).status_code == 200
    assert fd.post("/v1/feedback", key="ingest", json=dict(first[0], value=-1)).status_code == 409
    # messages: one duplicate, one conflict
    msg = {"id": "dc-m1", "conversation_id": "dc-c1", "parent_id": None, "role": "user", "content": "hi"}
    assert fd.post("/v1/messages", key="ingest", json={"messages": [msg]}).status_code == 200
    r = fd.post("/v1/messages", key="ingest", json={"messages": [msg, dict(msg, content="ho")]})
    assert r.status_code == 200, r.text
    statuses = [i["status"] if i["status"] != "error" else i["error"]["code"] for i in r.json()["results"]]
    assert statuses == ["duplicate", "conflict"], statuses
    after = scrape(fd)
    dup = value(after, "feedbackd_events_duplicate_total") - value(before, "feedbackd_events_duplicate_total")
    conflict = value(after, "feedbackd_events_conflict_total") - value(before, "feedbackd_events_conflict_total")
    assert (dup, conflict) == (3 + 1 + 1, 2 + 1 + 1)
