"""Configuration precedence (docs/api.md "Operating contract"): flags > environment > config file
> defaults — read back with `feedbackd config` and seen in behaviour (the listen port)."""

import os
import re
import socket
import subprocess

import pytest

from helpers import clean_env, feedbackd_bin, free_port


def effective(args=(), env=None, cwd="/"):
    """`feedbackd [args] config` -> {setting: value as printed, quotes removed}."""
    r = subprocess.run([feedbackd_bin(), *args, "config"], env=clean_env(**(env or {})), capture_output=True,
                       text=True, timeout=30, cwd=cwd)
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        m = re.match(r'^([a-z_]+) = "?(.*?)"?$', line)
        assert m, f"not a `key = value` line: {line!r}"
        out[m.group(1)] = m.group(2)
    return out


@pytest.fixture
def conf_file(tmp_path):
    def write(text):
        p = tmp_path / "feedbackd.conf"
        p.write_text(text)
        return str(p)
    return write


def test_defaults_from_the_contract():
    cfg = effective()
    # docs/api.md: listen default 127.0.0.1:8080, data dir ./var, embedded PostgreSQL when unset
    assert cfg["listen"] == "127.0.0.1:8080"
    assert cfg["data_dir"] == "./var"
    assert cfg["database_url"] == ""
    assert cfg["log_level"] == "info"
    assert cfg["max_body_bytes"] == str(1024 * 1024)  # docs/api.md limits: body 1 MiB
    assert cfg["max_batch_items"] == "1000"


def test_file_overrides_defaults(conf_file):
    path = conf_file("# a comment\n; another\n\nlisten = 127.0.0.1:7001\nthreads=3\nlog_level = \"warn\"\n")
    cfg = effective(["--config", path])
    assert (cfg["listen"], cfg["threads"], cfg["log_level"]) == ("127.0.0.1:7001", "3", "warn")
    # FEEDBACKD_CONFIG names the file too
    cfg = effective(env={"FEEDBACKD_CONFIG": path})
    assert cfg["listen"] == "127.0.0.1:7001"


def test_env_overrides_file(conf_file):
    path = conf_file("listen = 127.0.0.1:7001\nthreads = 3\n")
    cfg = effective(["--config", path], env={"FEEDBACKD_LISTEN": "127.0.0.1:7002"})
    assert cfg["listen"] == "127.0.0.1:7002"
    assert cfg["threads"] == "3"  # not set in the environment: the file still counts


def test_flag_overrides_env_and_file(conf_file):
    path = conf_file("listen = 127.0.0.1:7001\nthreads = 3\nlog_level = warn\n")
    env = {"FEEDBACKD_LISTEN": "127.0.0.1:7002", "FEEDBACKD_THREADS": "5"}
    cfg = effective(["--config", path, "--listen", "127.0.0.1:7003"], env=env)
    assert cfg["listen"] == "127.0.0.1:7003"
    assert cfg["threads"] == "5"
    assert cfg["log_level"] == "warn"
    # --name=value form, and a flag after the command name
    r = subprocess.run([feedbackd_bin(), "--config", path, "config", "--threads=7"], env=clean_env(**env),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert 'threads = 7' in r.stdout.splitlines()


def test_database_url_is_masked(conf_file):
    cfg = effective(env={"FEEDBACKD_DATABASE_URL": "host=/nonexistent password=s3cret"})
    assert "s3cret" not in cfg["database_url"]
    assert cfg["database_url"] != ""


@pytest.mark.parametrize("bad_args, bad_env, bad_file", [
    (["--threads", "many"], {}, None),
    ([], {"FEEDBACKD_MAX_BODY_BYTES": "-5"}, None),
    ([], {}, "no_such_setting = 1\n"),
    ([], {}, "listen\n"),
])
def test_invalid_settings_are_rejected(conf_file, bad_args, bad_env, bad_file):
    args = list(bad_args)
    if bad_file is not None:
        args = ["--config", conf_file(bad_file)] + args
    r = subprocess.run([feedbackd_bin(), *args, "config"], env=clean_env(**bad_env), capture_output=True,
                       text=True, timeout=30)
    assert r.returncode != 0
    assert r.stderr.strip(), "a rejected setting must say why on stderr"


def test_missing_config_file_is_an_error():
    r = subprocess.run([feedbackd_bin(), "--config", "/nonexistent/feedbackd.conf", "config"], env=clean_env(),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "/nonexistent/feedbackd.conf" in r.stderr


def test_example_config_file_parses_and_lists_every_setting():
    """config/feedbackd.conf documents every setting (commented out) with its default."""
    example = os.path.join(os.path.dirname(__file__), "..", "..", "config", "feedbackd.conf")
    with open(example) as f:
        text = f.read()
    names = set(effective())
    documented = set(re.findall(r"^#\s*([a-z_]+)\s*=", text, re.M))
    assert names <= documented, f"settings missing from config/feedbackd.conf: {sorted(names - documented)}"
    # uncommented, every line must load; and the documented defaults must be the real ones
    defaults = effective()
    for line in text.splitlines():
        m = re.match(r"^#\s*([a-z_]+)\s*=\s*(.*)$", line)
        if m and m.group(1) in defaults:
            assert m.group(2).strip().strip('"') == defaults[m.group(1)], line


def _answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_precedence_in_behaviour_listen_port(pg, conf_file, feedbackd_factory):
    """The port the daemon really listens on follows the same precedence."""
    fd = feedbackd_factory(start=False)
    file_port, env_port, flag_port = free_port(), free_port(), free_port()
    path = conf_file(f"listen = 127.0.0.1:{file_port}\n")

    # file only
    env = fd.env(FEEDBACKD_CONFIG=path)
    del env["FEEDBACKD_LISTEN"]
    fd.base_url = f"http://127.0.0.1:{file_port}"
    fd.start(env=env)
    assert fd.get("/healthz").status_code == 200
    assert fd.stop() == 0

    # env beats file
    env["FEEDBACKD_LISTEN"] = f"127.0.0.1:{env_port}"
    fd.base_url = f"http://127.0.0.1:{env_port}"
    fd.start(env=env)
    assert fd.get("/healthz").status_code == 200
    assert not _answers(file_port)
    assert fd.stop() == 0

    # flag beats env and file
    fd.base_url = f"http://127.0.0.1:{flag_port}"
    fd.start(env=env, args=["--listen", f"127.0.0.1:{flag_port}"])
    assert fd.get("/healthz").status_code == 200
    assert not _answers(env_port) and not _answers(file_port)
    assert fd.stop() == 0
