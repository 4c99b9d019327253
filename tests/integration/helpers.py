"""helpers.py — the real parts the integration tests drive: a throwaway PostgreSQL 15 cluster
(PgCluster) and the real feedbackd binary set up through its own CLI (Feedbackd).

The fixtures in conftest.py wrap these; import the classes directly only when a test needs
something the fixtures do not give (e.g. a second cluster). Nothing here knows about a
particular endpoint: expected values belong in the tests.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

import psycopg2
import requests

from openapi_check import check_response
from pgbouncer import PgBouncer, pooler_requested

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
IS_ROOT = os.geteuid() == 0
# Start-up of the daemon under AddressSanitizer is slower; every wait below is generous.
START_TIMEOUT = float(os.environ.get("FEEDBACKD_TEST_START_TIMEOUT", "60"))


def apply_migrations(pg, db, upto=None, only=None):
    """Apply the SQL files of migrations/ as they are to database db: every file before
    `upto` (a file name), or just `only`. For tests of a migration on existing data."""
    files = sorted(f for f in os.listdir(os.path.join(REPO, "migrations")) if f.endswith(".sql"))
    for name in ([only] if only else files[:files.index(upto)]):
        with open(os.path.join(REPO, "migrations", name)) as f:
            pg.sql(f.read(), dbname=db)


def feedbackd_bin():
    """The binary under test: $FEEDBACKD_BIN (relative to the repository root) or build/feedbackd."""
    path = os.path.join(REPO, os.environ.get("FEEDBACKD_BIN", "build/feedbackd"))
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"feedbackd binary not found at {path} (build it, or set FEEDBACKD_BIN)")
    return path


def free_port():
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listens_on(pid, port):
    """Whether process `pid` owns the socket listening on 127.0.0.1:`port` (Linux /proc).

    free_port() only says nobody listened a moment ago: when two suites run at once, another
    suite's feedbackd can take the port, ours then fails to bind, and a readiness probe alone
    would be answered by the wrong daemon."""
    want = f"0100007F:{port:04X}"
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    local = cols[1]
                    if cols[3] == "0A" and (local == want or local.endswith(f":{port:04X}") and
                                            local.split(":")[0].strip("0") == ""):
                        inodes.add(cols[9])
        except OSError:
            pass
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


def clean_env(**extra):
    """os.environ without any FEEDBACKD_* setting (a developer's shell must not leak into a
    test), plus `extra` (values of None are left out)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACKD_")}
    env.update({k: str(v) for k, v in extra.items() if v is not None})
    return env


def pooler_env():
    """The settings feedbackd needs behind the pooler of the PgBouncer mode (FEEDBACKD_TEST_PGBOUNCER=1,
    where PgCluster.conninfo() names it): prepared_statements = false (docs/operations.md).
    Empty otherwise."""
    return {"FEEDBACKD_PREPARED_STATEMENTS": "false"} if pooler_requested() else {}


def wait_until(predicate, timeout, interval=0.05, what="condition"):
    """Poll predicate() until it returns a truthy value; returns it, or raises after timeout."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - the predicate may fail while things start
            last_exc = e
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what} not reached within {timeout} s" + (f" (last error: {last_exc})" if last_exc else ""))
        time.sleep(interval)


def _postgres_ids():
    pw = pwd.getpwnam("postgres")
    return pw.pw_uid, pw.pw_gid


def make_private_dir(prefix):
    """A temp dir (short path: unix socket names are limited to ~107 bytes) that the
    `postgres` user owns when we are root, so initdb/postgres can run in it as that user."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    if IS_ROOT:
        uid, gid = _postgres_ids()
        os.chown(d, uid, gid)
    return d


def processes_using(path):
    """PIDs whose command line mentions path (to check that a cluster really stopped)."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if path in cmd:
            pids.append(int(p))
    return pids


class PgCluster:
    """A throwaway PostgreSQL 15 cluster: initdb + pg_ctl in a temp dir, as the `postgres`
    user when we are root (initdb refuses root). Unix socket only (listen_addresses = ''),
    in the cluster's own directory. For speed it runs with fsync=off,
    synchronous_commit=off and full_page_writes=off: a crash of the machine loses the test
    data, which is fine for tests and never acceptable anywhere else.

    With FEEDBACKD_TEST_PGBOUNCER=1 a PgBouncer in transaction pooling runs in front of it
    (tests/integration/pgbouncer.py): conninfo() — what feedbackd is given — then names the
    pooler, while connect()/sql() and host/port stay PostgreSQL's own."""

    def __init__(self, name="pg"):
        self.dir = make_private_dir(f"fd{name}-")
        self.pgdata = os.path.join(self.dir, "data")
        self.logfile = os.path.join(self.dir, "postgres.log")
        self.host = self.dir
        self.port = free_port()  # names the socket file; no TCP listener
        self.user = "postgres"
        self._dbs = 0
        self.running = False
        self.pooler = None

    # -- process control -------------------------------------------------------------
    def _run(self, args, check=True, timeout=120):
        cmd = (["runuser", "-u", "postgres", "--"] if IS_ROOT else []) + args
        r = subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}\n{self.log_tail()}")
        return r

    def init(self):
        self._run([f"{PG_BIN}/initdb", "-D", self.pgdata, "-U", self.user, "-A", "trust", "-E", "UTF8",
                   "--locale=C", "--no-sync", "--no-instructions"])
        with open(os.path.join(self.pgdata, "postgresql.conf"), "a") as f:
            f.write("\n# throwaway test cluster (tests/integration/helpers.py)\n"
                    "listen_addresses = ''\n"
                    f"unix_socket_directories = '{self.dir}'\n"
                    f"port = {self.port}\n"
                    "max_connections = 300\n"
                    "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "timezone = 'UTC'\nlog_timezone = 'UTC'\n")
        return self

    def start(self):
        self._run([f"{PG_BIN}/pg_ctl", "-D", self.pgdata, "-l", self.logfile, "-w", "-t", "60", "start"])
        self.running = True
        if pooler_requested() and self.pooler is None:  # it outlives restarts of PostgreSQL
            self.start_pooler()
        return self

    def start_pooler(self, **kw):
        """Start a PgBouncer in front of this cluster (keywords: PgBouncer's); returns it."""
        self.pooler = PgBouncer(self, free_port(), **kw).start()
        return self.pooler

    def stop(self, mode="fast"):
        """Stop the server (`mode` as pg_ctl -m: smart, fast, immediate)."""
        self._run([f"{PG_BIN}/pg_ctl", "-D", self.pgdata, "-m", mode, "-w", "-t", "60", "stop"])
        self.running = False

    def restart(self):
        self.stop()
        self.start()

    def destroy(self):
        if self.pooler is not None:
            self.pooler.stop()
        if os.path.exists(os.path.join(self.pgdata, "postmaster.pid")):
            self._run([f"{PG_BIN}/pg_ctl", "-D", self.pgdata, "-m", "immediate", "-w", "stop"], check=False)
        self.running = False
        if not os.environ.get("FEEDBACKD_TEST_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=3000):
        try:
            with open(self.logfile, errors="replace") as f:
                return f.read()[-n:]
        except OSError:
            return ""

    # -- SQL -------------------------------------------------------------------------------
    def conninfo(self, dbname="postgres"):
        """A libpq keyword/value connection string, as feedbackd's database_url takes it: the
        pooler's when one runs in front of the cluster."""
        if self.pooler is not None:
            return self.pooler.conninfo(dbname)
        return self.direct_conninfo(dbname)

    def direct_conninfo(self, dbname="postgres"):
        """PostgreSQL's own address, also when a pooler runs in front of it."""
        return f"host={self.host} port={self.port} dbname={dbname} user={self.user}"

    def connect(self, dbname="postgres"):
        conn = psycopg2.connect(self.direct_conninfo(dbname))
        conn.autocommit = True
        return conn

    def sql(self, query, params=None, dbname="postgres"):
        """Run one statement; returns all rows (a list of tuples), or [] for statements
        that return none."""
        conn = self.connect(dbname)
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def create_database(self, prefix="t"):
        """CREATE DATABASE with a new unique name; returns the name."""
        self._dbs += 1
        name = re.sub(r"[^a-z0-9_]", "_", f"{prefix}_{self._dbs}_{os.getpid()}".lower())[:60]
        self.sql(f'CREATE DATABASE "{name}"')
        return name


class Feedbackd:
    """One feedbackd daemon on a free 127.0.0.1 port, against `database_url`, set up as an
    operator would: `migrate`, `projects create`, one `keys create` per scope, `serve`.

    Attributes: base_url, port, project, keys {ingest, read, export, admin}, database_url,
    dir (its private temp dir: data_dir, logs), bin, proc (the serve process or None).
    """

    SCOPES = ("ingest", "read", "export", "admin")

    def __init__(self, database_url, *, bin=None, args=(), env=None, project="test", origins=None,
                 name="fd"):
        self.bin = bin or feedbackd_bin()
        self.database_url = database_url
        self.args = list(args)  # extra flags for `serve` (e.g. ["--max-body-bytes", "1024"])
        self.dir = tempfile.mkdtemp(prefix=f"fd{name}-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.project = project
        self.origins = origins if origins is not None else [self.base_url]
        self.keys = {}
        self.proc = None
        self.out_path = os.path.join(self.dir, "serve.out")   # stdout of serve (first-start keys)
        self.log_path = os.path.join(self.dir, "serve.log")   # stderr of serve (the log)
        self.extra_env = dict(env or {})
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy for 127.0.0.1, whatever the environment says
        # every answer must be one docs/openapi.json documents (tests/integration/openapi_check.py)
        self.http.hooks["response"].append(check_response)

    # -- environment and CLI -----------------------------------------------------------
    def env(self, **overrides):
        base = {
            "FEEDBACKD_DATABASE_URL": self.database_url,
            "FEEDBACKD_LISTEN": f"127.0.0.1:{self.port}",
            "FEEDBACKD_DATA_DIR": os.path.join(self.dir, "var"),
            "FEEDBACKD_LOG_LEVEL": "info",
            "FEEDBACKD_DB_RETRY_SECONDS": "10",
            **pooler_env(),
        }
        base.update(self.extra_env)
        base.update(overrides)
        return clean_env(**base)

    def cli(self, *args, check=True, env=None, timeout=120, input=None):
        """Run `feedbackd <args>` with this instance's settings; returns CompletedProcess
        (text stdout/stderr). check=True raises on a non-zero exit."""
        r = subprocess.run([self.bin, *args], env=env or self.env(), capture_output=True, text=True,
                           timeout=timeout, input=input, cwd=self.dir)
        if check and r.returncode != 0:
            raise RuntimeError(f"feedbackd {' '.join(args)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r

    def create_key(self, scopes, label="", project=None):
        """`feedbackd keys create`; returns the key (stdout must be the key alone on one line)."""
        r = self.cli("keys", "create", "--project", project or self.project, "--scopes", scopes, "--label", label)
        lines = r.stdout.splitlines()
        if len(lines) != 1 or not lines[0] or lines[0] != lines[0].strip() or " " in lines[0]:
            raise AssertionError(f"keys create must print the key alone on one line, got {r.stdout!r}")
        return lines[0]

    def setup(self, migrate=True):
        if migrate:
            self.cli("migrate")
        if self.project:
            self.cli("projects", "create", self.project, "--name", f"Project {self.project}",
                     "--origins", ",".join(self.origins))
            for scope in self.SCOPES:
                self.keys[scope] = self.create_key(scope, label=f"test-{scope}")
        return self

    # -- the serve process ---------------------------------------------------------------
    def start(self, wait=True, args=None, env=None):
        """Start `feedbackd serve` (extra flags: self.args + args); with wait, until /readyz is 200."""
        if self.running():
            raise RuntimeError("feedbackd is already running")
        out = open(self.out_path, "ab")
        log = open(self.log_path, "ab")
        log.write(f"--- feedbackd serve {time.strftime('%H:%M:%S')}\n".encode())
        log.flush()
        try:
            self.proc = subprocess.Popen([self.bin, "serve", *self.args, *(args or [])], env=env or self.env(),
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=log, cwd=self.dir)
        finally:
            out.close()
            log.close()
        if wait:
            self.wait_ready()
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=START_TIMEOUT, path="/readyz"):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"feedbackd serve exited early with {self.proc.returncode}:\n{self.log()}")
            try:
                r = self.http.get(self.base_url + path, timeout=2)
                last = r.status_code
                if r.status_code == 200 and listens_on(self.proc.pid, urllib.parse.urlsplit(self.base_url).port):
                    return
            except requests.RequestException as e:
                last = type(e).__name__
            time.sleep(0.05)
        raise TimeoutError(f"feedbackd not ready within {timeout} s (last: {last}):\n{self.log()}")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Send sig and wait; returns the exit code (negative: killed by a signal). SIGKILLs
        after timeout and then raises, because a daemon that does not stop is a failure."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"feedbackd did not exit within {timeout} s of {sig!r}:\n{self.log()}")
        return code

    def restart(self, **kw):
        code = self.stop()
        self.start(**kw)
        return code

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def destroy(self):
        report = ""
        try:
            if self.running():
                try:
                    self.stop(timeout=15)
                except AssertionError:
                    pass
            self.kill()
        finally:
            self.http.close()
            data = os.path.join(self.dir, "var", "postgres")
            if os.path.exists(os.path.join(data, "postmaster.pid")):  # an embedded cluster left behind
                cmd = (["runuser", "-u", "postgres", "--"] if IS_ROOT else []) + [
                    f"{PG_BIN}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]
                subprocess.run(cmd, capture_output=True, timeout=60)
            report = self.sanitizer_report()
            if not os.environ.get("FEEDBACKD_TEST_KEEP"):
                shutil.rmtree(self.dir, ignore_errors=True)
        # A sanitizer build aborts on its first error (scripts/test.sh ASAN_OPTIONS): the
        # request in flight only sees a dropped connection, the report is on stderr. Fail the
        # test with the report, whatever the requests saw.
        assert not report, f"feedbackd's sanitizer report (stderr, {self.log_path}):\n{report}"

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "SUMMARY: UndefinedBehaviorSanitizer")

    def sanitizer_report(self, n=8000):
        """The first sanitizer report feedbackd wrote (ASan, LSan, UBSan: to stderr, the log), or ""."""
        for path in (self.log_path, self.out_path):
            try:
                with open(path, errors="replace") as f:
                    text = f.read()
            except OSError:
                continue
            at = min((i for i in (text.find(m) for m in self.SANITIZER_MARKS) if i >= 0), default=-1)
            if at >= 0:
                return text[max(0, text.rfind("\n", 0, at)):][:n]
        return ""

    def log(self, n=6000):
        text = ""
        for p in (self.out_path, self.log_path):
            try:
                with open(p, errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text[-n:]

    def stdout(self):
        try:
            with open(self.out_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- HTTP ------------------------------------------------------------------------------
    def request(self, method, path, key=None, json=None, data=None, headers=None, timeout=10, **kw):
        """One HTTP request. key: a scope name of self.keys ("admin"), a raw key, or None
        (no Authorization header). json= sends Content-Type: application/json."""
        h = dict(headers or {})
        if key is not None:
            h["Authorization"] = f"Bearer {self.keys.get(key, key)}"
        return self.http.request(method, self.base_url + path, json=json, data=data, headers=h, timeout=timeout, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def metrics(self):
        r = self.get("/metrics")
        r.raise_for_status()
        return r.text


def metric_value(text, name, **labels):
    """The value of one Prometheus sample `name{labels}` in an exposition text, or None.
    Label order in the text does not matter; the sample must carry exactly these labels."""
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if got == {k: str(v) for k, v in labels.items()}:
            return float(m.group(3))
    return None


def error_body(resp):
    """Assert the docs/api.md error shape (exactly code, message, field) and return the inner dict."""
    assert resp.headers.get("Content-Type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "field"}, err
    assert isinstance(err["code"], str) and isinstance(err["message"], str) and err["message"], err
    assert err["field"] is None or isinstance(err["field"], str), err
    return err
