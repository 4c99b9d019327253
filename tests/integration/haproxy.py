"""haproxy.py — a throwaway haproxy (Debian's package) in front of several feedbackd replicas on
loopback, configured as docs/operations.md ("Replicas behind a load balancer") recommends:
health checks on /readyz, and a request whose connection to a replica fails is retried on
another (POST /v1/feedback is idempotent by event id, so a retry never stores twice).

Used by test_replicas.py and bench/scale/run.sh.
"""

import csv
import io
import os
import subprocess
import tempfile
import time

import requests

HAPROXY_BIN = os.environ.get("HAPROXY_BIN", "/usr/sbin/haproxy")


def config_text(port, stats_port, backends):
    """The haproxy.cfg for `backends` [(name, port)] on 127.0.0.1 (docs/operations.md shows
    the same configuration)."""
    lines = [
        "global",
        "  maxconn 4096",
        "defaults",
        "  mode http",
        "  timeout connect 2s",
        "  timeout client 30s",
        "  timeout server 30s",
        # a connection refused by a replica that is stopping goes to another one
        "  retries 3",
        "  option redispatch 1",
        "  retry-on conn-failure empty-response",
        "frontend feedbackd",
        f"  bind 127.0.0.1:{port}",
        "  default_backend replicas",
        "backend replicas",
        "  balance roundrobin",
        "  option httpchk GET /readyz",
        "  http-check expect status 200",
        "  default-server inter 200ms fall 1 rise 2",
    ]
    lines += [f"  server {name} 127.0.0.1:{p} check" for name, p in backends]
    lines += ["listen stats", f"  bind 127.0.0.1:{stats_port}", "  stats enable", "  stats uri /stats"]
    return "\n".join(lines) + "\n"


class Haproxy:
    """haproxy in the foreground on 127.0.0.1:port, a stats page on stats_port."""

    def __init__(self, port, stats_port, backends):
        self.port = port
        self.stats_port = stats_port
        self.base_url = f"http://127.0.0.1:{port}"
        self.dir = tempfile.mkdtemp(prefix="fdhaproxy-", dir="/tmp")
        self.cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(self.cfg, "w") as f:
            f.write(config_text(port, stats_port, backends))
        self.log_path = os.path.join(self.dir, "haproxy.log")
        self.proc = None
        self.http = requests.Session()
        self.http.trust_env = False

    def start(self):
        check = subprocess.run([HAPROXY_BIN, "-c", "-q", "-f", self.cfg], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy -c rejected {self.cfg}:\n{check.stdout}{check.stderr}")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([HAPROXY_BIN, "-db", "-f", self.cfg], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)
        return self

    def servers(self):
        """{server name: row of the stats CSV} of the backend (status, stot, ...)."""
        r = self.http.get(f"http://127.0.0.1:{self.stats_port}/stats;csv", timeout=5)
        r.raise_for_status()
        rows = csv.DictReader(io.StringIO(r.text.lstrip("# ")))
        return {row["svname"]: row for row in rows if row["pxname"] == "replicas"
                and row["svname"] not in ("FRONTEND", "BACKEND")}

    def wait_status(self, want, timeout=30):
        """Until every server's status starts with want[name] ("UP", "DOWN")."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                got = {n: row["status"] for n, row in self.servers().items()}
                if all(got.get(n, "").startswith(s) for n, s in want.items()):
                    return got
            except requests.RequestException:
                got = None
            if time.monotonic() > deadline or (self.proc and self.proc.poll() is not None):
                raise TimeoutError(f"haproxy servers not {want} within {timeout} s: {got}")
            time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.http.close()
