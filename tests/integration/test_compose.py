"""docker-compose.yml and its HA variant docker-compose.ha.yml (docs/operations.md,
"docker-compose"), checked without Docker (it cannot run here):

- `docker-compose config` (Debian's docker-compose 1.29, which scripts/setup.sh installs for the
  integration suite) validates each file against the Compose schema; skipped when it is absent;
- a structural parse with PyYAML: every service has an image or a build whose context and
  Dockerfile exist; depends_on names services, without cycles, and waits for health only where
  there is a health check; published ports are unique; every mounted host path exists and every
  named volume and network is declared; every FEEDBACKD_* variable is a setting the binary has,
  and `feedbackd config` accepts the values; every host a connection string or config names is
  a service, on the port that service listens on;
- the HA configuration is what the tests run with: config/ha/pgbouncer/pgbouncer.ini starts with
  Debian's PgBouncer and has tests/integration/pgbouncer.py's pool settings,
  config/ha/haproxy.cfg passes `haproxy -c` and has every line of tests/integration/haproxy.py
  but the addresses and check timings, and the PostgreSQL replication settings are
  tests/integration/replication.py's."""

import configparser
import ipaddress
import os
import re
import shutil
import subprocess
import tempfile
import types

import psycopg2
import pytest
import yaml

import haproxy
from helpers import REPO, feedbackd_bin, free_port, wait_until
from pgbouncer import IS_ROOT, PGBOUNCER_BIN, PgBouncer
from replication import STREAMING, SYNCHRONOUS

FILES = ["docker-compose.yml", "docker-compose.ha.yml"]
HA_DIR = os.path.join(REPO, "config", "ha")


def load(name):
    with open(os.path.join(REPO, name), encoding="utf-8") as f:
        return yaml.safe_load(f)  # anchors and `<<` merge keys resolved


def read(*path):
    with open(os.path.join(REPO, *path), encoding="utf-8") as f:
        return f.read()


def conninfo(s):
    """A libpq key=value connection string as a dict (the values here have no spaces)."""
    return dict(kv.split("=", 1) for kv in s.split())


def env_of(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) for e in env)
    return {k: str(v) for k, v in env.items()}


def is_feedbackd(svc):
    return svc.get("build") == "." or (svc.get("build") or {}).get("context") == "."


def ha():
    return load("docker-compose.ha.yml")["services"]


@pytest.mark.parametrize("name", FILES)
def test_docker_compose_config_accepts_it(name):
    exe = shutil.which("docker-compose")
    if not exe:
        pytest.skip("docker-compose is not installed (scripts/setup.sh --test=integration installs it)")
    r = subprocess.run([exe, "-f", name, "config", "-q"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("name", FILES)
def test_services_builds_dependencies_ports_and_mounts(name):
    doc = load(name)
    services = doc["services"]
    volumes, networks = set(doc.get("volumes") or {}), set(doc.get("networks") or {})
    published = []
    for sname, svc in services.items():
        assert svc.get("image") or svc.get("build"), f"{sname}: neither image nor build"
        if svc.get("build"):
            b = svc["build"] if isinstance(svc["build"], dict) else {"context": svc["build"]}
            context = os.path.join(REPO, b["context"])
            assert os.path.isdir(context), f"{sname}: build context {b['context']} does not exist"
            assert os.path.isfile(os.path.join(context, b.get("dockerfile", "Dockerfile"))), sname
        deps = svc.get("depends_on") or []
        for dep, how in (deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps)):
            assert dep in services and dep != sname, f"{sname} depends on unknown service {dep}"
            cond = how.get("condition", "service_started")
            assert cond in ("service_started", "service_healthy", "service_completed_successfully"), cond
            if cond == "service_healthy":
                assert services[dep].get("healthcheck"), f"{sname} waits for {dep}'s health, which has no check"
        for port in svc.get("ports") or []:
            published.append(str(port).split(":")[0])
        for vol in svc.get("volumes") or []:
            src = vol.split(":")[0]
            if src.startswith((".", "/")):
                assert os.path.exists(os.path.join(REPO, src)), f"{sname} mounts {src}, which does not exist"
            else:
                assert src in volumes, f"{sname}: volume {src} is not declared"
        for net in svc.get("networks") or []:
            assert net in networks, f"{sname}: network {net} is not declared"
    assert len(published) == len(set(published)), f"a host port published twice: {published}"

    # depends_on has no cycle: every service can be started after its dependencies
    started, left = set(), dict(services)
    while left:
        ready = [n for n, s in left.items() if set(s.get("depends_on") or []) <= started]
        assert ready, f"depends_on has a cycle among {sorted(left)}"
        for n in ready:
            started.add(n)
            del left[n]


@pytest.mark.parametrize("name", FILES)
def test_feedbackd_environment_names_settings_the_binary_accepts(name):
    services = load(name)["services"]
    replicas = {n: s for n, s in services.items() if is_feedbackd(s)}
    assert replicas, "no feedbackd service"
    listed = subprocess.run([feedbackd_bin(), "config"], env={"PATH": os.environ["PATH"]}, capture_output=True,
                            text=True, timeout=30)
    settings = dict(re.findall(r"^(\w+) = (.*)$", listed.stdout, re.M))
    assert "database_url" in settings and "prepared_statements" in settings
    for sname, svc in replicas.items():
        env = env_of(svc)
        for var in env:
            assert var.startswith("FEEDBACKD_") and var[10:].lower() in settings, f"{sname}: {var} is no setting"
        r = subprocess.run([feedbackd_bin(), "config"], env={"PATH": os.environ["PATH"], **env},
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, f"{sname}: feedbackd config refused the environment:\n{r.stderr}"
        effective = dict(re.findall(r"^(\w+) = (.*)$", r.stdout, re.M))
        for var, value in env.items():
            shown = effective[var[10:].lower()].strip('"')
            if shown != "********":  # secrets are masked
                assert shown == {"false": "false", "true": "true"}.get(value.lower(), value), var


def test_every_host_the_ha_setup_names_is_a_service_on_its_port():
    services = ha()
    ini = configparser.ConfigParser(delimiters=("=",))
    ini.read(os.path.join(HA_DIR, "pgbouncer", "pgbouncer.ini"))
    target = conninfo(ini["databases"]["feedbackd"])
    assert target["host"] == "db-primary" and target["port"] == "5432"
    assert target["dbname"] == env_of(services["db-primary"])["POSTGRES_DB"]
    for sname, svc in services.items():
        if not is_feedbackd(svc):
            continue
        env = env_of(svc)
        write = conninfo(env["FEEDBACKD_DATABASE_URL"])
        assert (write["host"], write["port"]) == ("pgbouncer", ini["pgbouncer"]["listen_port"])
        assert env["FEEDBACKD_PREPARED_STATEMENTS"] == "false"  # PgBouncer in transaction pooling
        read_ = conninfo(env["FEEDBACKD_READ_DATABASE_URL"])
        assert (read_["host"], read_["port"]) == ("db-standby", "5432")
        pg_env = env_of(services["db-primary"])
        for url in (write, read_):
            assert (url["user"], url["password"], url["dbname"]) == (
                pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"], pg_env["POSTGRES_DB"])
        # haproxy's address is the trusted proxy, inside the compose network's range
        proxy_ip = services["haproxy"]["networks"]["ha"]["ipv4_address"]
        subnet = load("docker-compose.ha.yml")["networks"]["ha"]["ipam"]["config"][0]["subnet"]
        assert env["FEEDBACKD_TRUSTED_PROXIES"] == proxy_ip
        assert ipaddress.ip_address(proxy_ip) in ipaddress.ip_network(subnet)
        assert env["FEEDBACKD_LISTEN"] == "0.0.0.0:8080"
    # userlist.txt: the user PgBouncer logs in as, with the database's password
    [(user, password)] = re.findall(r'^"([^"]*)" "([^"]*)"$', read("config", "ha", "pgbouncer", "userlist.txt"), re.M)
    assert (user, password) == (pg_env["POSTGRES_USER"], pg_env["POSTGRES_PASSWORD"])
    # haproxy's servers are the feedbackd services, on their listen port; it publishes its bind port
    cfg = read("config", "ha", "haproxy.cfg")
    servers = re.findall(r"^\s*server (\S+) (\S+):(\d+) check", cfg, re.M)
    assert sorted(servers) == sorted((n, n, "8080") for n, s in services.items() if is_feedbackd(s))
    assert len(servers) == 2
    [bind] = re.findall(r"^\s*bind :(\d+)$", cfg.split("listen stats")[0], re.M)
    assert services["haproxy"]["ports"] == [f"8080:{bind}"]


def test_pgbouncer_ini_starts_with_debians_pgbouncer_and_pools_as_the_tests_do():
    ini = configparser.ConfigParser(delimiters=("=",))
    ini.read(os.path.join(HA_DIR, "pgbouncer", "pgbouncer.ini"))
    bouncer = dict(ini["pgbouncer"])
    tested = PgBouncer(types.SimpleNamespace(dir="/nonexistent", user="postgres"), 0).conf
    for key in ("pool_mode", "server_round_robin", "default_pool_size", "query_wait_timeout", "server_login_retry"):
        assert bouncer[key] == tested[key], f"{key}: {bouncer[key]} in config/ha, {tested[key]} in the tests"
    assert bouncer["pool_mode"] == "transaction"

    # the file as it is, but on a loopback port of its own, and with an admin console
    d = tempfile.mkdtemp(prefix="fdcompose-", dir="/tmp")
    port = free_port()
    text = read("config", "ha", "pgbouncer", "pgbouncer.ini")
    text = re.sub(r"^listen_addr = .*$", "listen_addr = 127.0.0.1", text, flags=re.M)
    text = re.sub(r"^listen_port = .*$", f"listen_port = {port}", text, flags=re.M)
    text = re.sub(r"^auth_file = .*$", f"auth_file = {d}/userlist.txt", text, flags=re.M)
    ini_path = os.path.join(d, "pgbouncer.ini")
    with open(ini_path, "w") as f:
        f.write(text + "admin_users = feedbackd\n")
    shutil.copy(os.path.join(HA_DIR, "pgbouncer", "userlist.txt"), d)
    if IS_ROOT:
        subprocess.run(["chown", "-R", "postgres", d], check=True)
    proc = subprocess.Popen([PGBOUNCER_BIN, *(["-u", "postgres"] if IS_ROOT else []), ini_path],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def console():
            if proc.poll() is not None:
                return "exited"
            return psycopg2.connect(host="127.0.0.1", port=port, dbname="pgbouncer", user="feedbackd",
                                    password="feedbackd")
        conn = wait_until(console, timeout=15, what="pgbouncer with config/ha's pgbouncer.ini")
        assert conn != "exited", "pgbouncer refused config/ha/pgbouncer/pgbouncer.ini:\n" + proc.stdout.read()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SHOW CONFIG")
            effective = {row[0]: row[1] for row in cur.fetchall()}
            cur.execute("SHOW DATABASES")
            names = [c[0] for c in cur.description]
            dbs = {row[0]: dict(zip(names, row)) for row in cur.fetchall()}
        conn.close()
        for key in ("pool_mode", "default_pool_size", "max_db_connections", "query_wait_timeout"):
            assert effective[key] == bouncer[key], key
        assert (dbs["feedbackd"]["host"], dbs["feedbackd"]["port"]) == ("db-primary", 5432)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(d, ignore_errors=True)


def test_haproxy_cfg_is_valid_and_has_the_tested_settings():
    path = os.path.join(HA_DIR, "haproxy.cfg")
    r = subprocess.run([haproxy.HAPROXY_BIN, "-c", "-f", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr
    ours = {line.strip() for line in read("config", "ha", "haproxy.cfg").splitlines()}
    tested = haproxy.config_text(8080, 8404, [("a", 1), ("b", 2)]).splitlines()
    # addresses differ (loopback ports there, service names here) and so do the check timings
    # (200 ms there to keep the tests short, docs/operations.md's 1 s here)
    skip = ("bind ", "server ", "default-server ", "listen stats", "stats ")
    missing = [t for t in (x.strip() for x in tested) if not t.startswith(skip) and t not in ours]
    assert not missing, f"config/ha/haproxy.cfg lacks what tests/integration/haproxy.py runs with: {missing}"
    assert "default-server inter 1s fall 2 rise 2" in read("docs", "operations.md")
    assert re.search(r"^\s*default-server inter 1s fall 2 rise 2\b", read("config", "ha", "haproxy.cfg"), re.M)


def test_replication_is_set_up_as_the_failover_tests_run_it():
    services = ha()
    cmd = services["db-primary"]["command"]
    assert cmd[0] == "postgres"
    flags = dict(v.split("=", 1) for k, v in zip(cmd[1::2], cmd[2::2]) if k == "-c")
    assert flags == STREAMING
    init = read("config", "ha", "primary-init.sh")
    assert dict(re.findall(r"ALTER SYSTEM SET (\w+) = (.+?);", init)) == SYNCHRONOUS
    [slot] = re.findall(r"pg_create_physical_replication_slot\('(\w+)'\)", init)
    standby = read("config", "ha", "standby-entrypoint.sh")
    assert re.search(rf"pg_basebackup -h db-primary -p 5432 -U replicator .*-R .*-S {slot}\b", standby)
    # as replication.py does for its clone: a promoted standby must not wait for a standby
    assert "synchronous_standby_names = ''" in standby
    assert "replicator" in init and "host replication replicator all scram-sha-256" in init
    mounts = services["db-primary"]["volumes"]
    assert any(m.startswith("./config/ha/primary-init.sh:/docker-entrypoint-initdb.d/") for m in mounts)
    stby = services["db-standby"]
    assert stby["entrypoint"][-1] == "/ha/standby-entrypoint.sh"
    assert any(m.startswith("./config/ha/standby-entrypoint.sh:/ha/standby-entrypoint.sh") for m in stby["volumes"])
    # the replication password the primary gives the role is the one the standby logs in with
    assert env_of(services["db-primary"])["REPLICATION_PASSWORD"] == env_of(stby)["PGPASSWORD"]
    assert stby["depends_on"]["db-primary"]["condition"] == "service_healthy"
    for n, s in services.items():
        if is_feedbackd(s):  # commits wait for the synchronous standby: start once it is up
            assert s["depends_on"]["db-standby"]["condition"] == "service_healthy"
