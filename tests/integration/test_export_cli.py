"""`feedbackd export` (docs/api.md "Operating contract"): the same export as GET /v1/export, straight
from the database, to stdout, a file (-o) or a dataset directory (--out DIR), recorded in the
exports table, with a progress bar on a terminal."""

import hashlib
import json
import os
import pty
import subprocess

import pytest

import export_data as D


@pytest.fixture(scope="module")
def fd(feedbackd):
    D.load(feedbackd)
    return feedbackd


def export_id_of(stderr):
    for word in stderr.split():
        if len(word) == 37 and word.endswith(",") and word.count("-") == 4:
            return word[:-1]
    raise AssertionError(f"no export id in {stderr!r}")


def test_stdout_equals_http_body(fd):
    for fmt in ("trl", "kto", "hh"):
        r = fd.cli("export", "--project", "test", "--format", fmt)
        _, body, _ = D.export(fd, format=fmt)
        assert r.stdout.encode() == body and body
        m = fd.get(f"/v1/exports/{export_id_of(r.stderr)}", key="export").json()
        assert m["format"] == fmt and m["sha256"] == hashlib.sha256(body).hexdigest()
        assert m["records"] == len(D.parse_ndjson(body)) and m["finished_at"]


def test_records_by_hand_and_meta(fd):
    r = fd.cli("export", "--format=kto")  # the only project is chosen without --project
    assert D.multiset(D.parse_ndjson(r.stdout)) == sorted(D.canonical(x) for x in D.KTO)
    r = fd.cli("export", "--project", "test", "--include-meta", "--since", "2026-02-01T00:00:00Z")
    recs = D.parse_ndjson(r.stdout)
    assert D.multiset(recs) == sorted(D.canonical(x) for x in D.TRL if x["prompt"] == D.P_SCALE)
    assert all(x["meta"]["conversation_id"] == "c-scale" for x in recs)


def test_output_file(fd, tmp_path):
    path = tmp_path / "out.jsonl"
    r = fd.cli("export", "--project", "test", "-o", str(path), "--min-margin", "0.5")
    assert r.stdout == ""
    _, body, _ = D.export(fd, min_margin="0.5")
    assert path.read_bytes() == body
    r = fd.cli("export", "--project", "test", "-o", "-", "--model", "poet-1")
    assert D.multiset(D.parse_ndjson(r.stdout)) == [D.canonical(D.TRL[3])]


def test_out_dir(fd, tmp_path):
    out = tmp_path / "ds"
    fd.cli("export", "--project", "test", "--format", "kto", "--test-fraction", "0.5", "--out", str(out))
    assert sorted(os.listdir(out)) == ["README.md", "manifest.json", "test.jsonl", "train.jsonl"]
    train = (out / "train.jsonl").read_bytes()
    test = (out / "test.jsonl").read_bytes()
    m = json.loads((out / "manifest.json").read_text())
    tr, te = D.parse_ndjson(train), D.parse_ndjson(test)
    assert m["records"] == len(tr) + len(te) == len(D.KTO)
    assert m["by_split"] == {"train": len(tr), "test": len(te)}
    assert tr and te
    # the files hold whole conversations of their split (docs/export.md "Split")
    _, _, meta = D.export(fd, format="kto", include_meta="true", test_fraction="0.5")
    want_test = sorted(D.canonical(D.without_meta(x)) for x in meta if D.split_of(x["meta"]["conversation_id"], 0.5) == "test")
    assert D.multiset(te) == want_test
    assert m["files"]["train.jsonl"] == {"records": len(tr), "sha256": hashlib.sha256(train).hexdigest()}
    assert m["files"]["test.jsonl"] == {"records": len(te), "sha256": hashlib.sha256(test).hexdigest()}
    # sha256 covers the lines in emission order: the HTTP body of the same export
    _, body, _ = D.export(fd, format="kto", test_fraction="0.5")
    assert m["sha256"] == hashlib.sha256(body).hexdigest()
    assert sorted(body.splitlines()) == sorted(train.splitlines() + test.splitlines())
    assert m["by_label"] == {"true": 6, "false": 7}
    assert set(m["skipped"]) == D.SKIP_KEYS
    # the manifest is the one recorded in the exports table
    assert fd.get(f"/v1/exports/{m['id']}", key="export").json() == m
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and card.count("\n---\n") >= 1
    front = card.split("\n---\n", 1)[0]
    for needle in ("configs:", "data_files:", "split: train", "path: train.jsonl", "split: test",
                   "path: test.jsonl", "dataset_info:", "features:", "name: completion", "name: label",
                   "dtype: bool", f"num_examples: {len(tr)}", f"num_examples: {len(te)}"):
        assert needle in front, needle
    body_text = card.split("\n---\n", 1)[1]
    for needle in ("Split", "Dedup", "min_margin", m["id"], "sha256"):
        assert needle in body_text, needle


def test_progress_bar_on_a_terminal(fd):
    master, slave = pty.openpty()
    p = subprocess.Popen([fd.bin, "export", "--project", "test", "-o", "/dev/null"], env=fd.env(),
                         stdout=subprocess.DEVNULL, stderr=slave, cwd=fd.dir)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    assert p.wait(timeout=60) == 0
    os.close(master)
    text = out.decode(errors="replace")
    assert "conversations" in text and "records/s" in text and "100%" in text, text
    # not on a pipe
    r = fd.cli("export", "--project", "test", "-o", "/dev/null")
    assert "records/s" not in r.stderr


def test_cli_errors(fd):
    r = fd.cli("export", "--project", "test", "--format", "dpo", check=False)
    assert r.returncode == 2 and "--format" in r.stderr
    r = fd.cli("export", "--project", "test", "--after", "nonsense", check=False)
    assert r.returncode == 2 and "--after" in r.stderr
    r = fd.cli("export", "--project", "test", "--test-fraction", "2", check=False)
    assert r.returncode == 2 and "--test-fraction" in r.stderr
    r = fd.cli("export", "--no-such-flag", check=False)
    assert r.returncode == 2
    r = fd.cli("export", "--project", "nope", check=False)
    assert r.returncode != 0 and "nope" in r.stderr
    fd.cli("projects", "create", "second-one")
    r = fd.cli("export", check=False)
    assert r.returncode != 0 and "--project" in r.stderr
