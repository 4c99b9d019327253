"""Health and metrics (docs/api.md "Health and metrics"): /healthz, /readyz across a database
outage, and the Prometheus text of /metrics."""

from helpers import Feedbackd, metric_value, wait_until


def test_healthz(feedbackd):
    r = feedbackd.get("/healthz")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"status": "ok"}


def test_readyz_when_database_is_up(feedbackd):
    r = feedbackd.get("/readyz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_readyz_follows_a_database_outage_without_restart(pg_factory):
    own = pg_factory()
    db = own.create_database("outage")
    fd = Feedbackd(own.conninfo(db), name="outage")
    try:
        fd.setup()
        fd.start()
        pid = fd.proc.pid
        assert fd.get("/readyz").status_code == 200

        own.stop(mode="fast")
        # docs/api.md: 503 when the database does not answer; /healthz stays 200 (process alive)
        wait_until(lambda: fd.get("/readyz", timeout=5).status_code == 503, timeout=15, interval=0.2,
                   what="/readyz 503 after PostgreSQL stopped")
        assert fd.get("/healthz").status_code == 200
        r = fd.get("/v1/project", key="admin")  # a keyed request, key maybe cached: never a 500
        assert r.status_code in (200, 503), r.text

        own.start()
        wait_until(lambda: fd.get("/readyz", timeout=5).status_code == 200, timeout=30, interval=0.2,
                   what="/readyz 200 after PostgreSQL came back")
        assert fd.running() and fd.proc.pid == pid, "feedbackd must not have restarted"
        # the pool reconnected: requests that need the database work again
        wait_until(lambda: fd.get("/v1/project", key="admin").status_code == 200, timeout=10,
                   what="GET /v1/project 200 after the outage")
        assert fd.stop() == 0
    finally:
        fd.destroy()


def test_metrics_requests_by_route_and_status_and_latency(feedbackd):
    before = feedbackd.metrics()
    n0 = metric_value(before, "feedbackd_http_requests_total", route="healthz", status="200") or 0
    for _ in range(3):
        assert feedbackd.get("/healthz").status_code == 200
    r = feedbackd.get("/v1/project", key=None)
    assert r.status_code == 401
    after = feedbackd.get("/metrics")
    assert after.status_code == 200
    assert after.headers["Content-Type"].startswith("text/plain")
    text = after.text
    assert "# TYPE feedbackd_http_requests_total counter" in text
    assert metric_value(text, "feedbackd_http_requests_total", route="healthz", status="200") == n0 + 3
    assert (metric_value(text, "feedbackd_http_requests_total", route="project", status="401") or 0) >= 1

    # a latency histogram: cumulative buckets ending in +Inf, whose count equals _count
    hist = [line for line in text.splitlines() if line.startswith("# TYPE") and line.endswith(" histogram")]
    names = [line.split()[2] for line in hist]
    lat = [n for n in names if "duration" in n or "latency" in n]
    assert lat, f"no latency histogram among {names}"
    name = lat[0]
    buckets = []
    for line in text.splitlines():
        if line.startswith(name + "_bucket{") and 'route="healthz"' in line:
            le = line.split('le="', 1)[1].split('"', 1)[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), float(line.rsplit(" ", 1)[1])))
    assert buckets, f"no {name} buckets for route healthz"
    assert buckets[-1][0] == float("inf")
    counts = [c for _, c in buckets]
    assert counts == sorted(counts), "buckets must be cumulative"
    total = [line for line in text.splitlines() if line.startswith(name + "_count{") and 'route="healthz"' in line]
    assert total and float(total[0].rsplit(" ", 1)[1]) == counts[-1] >= n0 + 3


def test_metrics_token(feedbackd_factory):
    fd = feedbackd_factory(args=["--metrics-token", "tok-123"])
    assert fd.get("/metrics").status_code == 401
    assert fd.get("/metrics", key="wrong").status_code == 401
    r = fd.get("/metrics", key="tok-123")
    assert r.status_code == 200 and "feedbackd_http_requests_total" in r.text
    assert fd.get("/healthz").status_code == 200
