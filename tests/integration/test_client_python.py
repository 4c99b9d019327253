"""clients/python (feedbackd_client) against the real feedbackd and PostgreSQL: every
operation, errors as FeedbackdError, retries under the same ids through real failures (an
answer lost after the commit, the database stopped -> 503, a rate-limited key's 429), the
export read as an iterator, drift against docs/openapi.json, and the README's Python example
run as written."""

import copy
import json
import os
import re
import subprocess
import sys
import threading
import time
import typing
import urllib.error
import uuid

import pytest

from helpers import wait_until
from openapi_check import REPO, load_document

sys.path.insert(0, os.path.join(REPO, "clients", "python"))

import feedbackd_client as fc  # noqa: E402
from feedbackd_client import OPERATIONS, FeedbackdClient, FeedbackdError  # noqa: E402
from feedbackd_client import models  # noqa: E402


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def client(fd, scope, **kw):
    kw.setdefault("base_delay", 0.05)
    kw.setdefault("max_delay", 1.0)
    return FeedbackdClient(fd.base_url, fd.keys[scope], **kw)


class Recorder:
    """Wraps the client's opener: the real request, with the statuses seen (network: 0)."""

    def __init__(self, c, lose_first_answer=False):
        self.seen = []
        self.inner = c._opener
        self.lose = lose_first_answer
        c._opener = self

    def open(self, req, timeout=None):
        try:
            res = self.inner.open(req, timeout=timeout)
        except urllib.error.HTTPError as e:
            self.seen.append(e.code)
            raise
        except OSError:
            self.seen.append(0)
            raise
        self.seen.append(res.status)
        if self.lose:
            self.lose = False
            res.read()
            res.close()
            raise ConnectionResetError("the answer was lost")
        return res


def count(db_sql, message_id):
    return db_sql("SELECT count(*) FROM feedback WHERE message_id = %s", (message_id,))[0][0]


# ---------------------------------------------------------------- drift against the document

# TypedDicts of nested objects of a schema: (class, schema, path of properties)
NESTED = [
    (models.StatsTotals, "Stats", ["totals"]),
    (models.StatsPoint, "Stats", ["series", "items"]),
    (models.StatsGroup, "Stats", ["groups", "items"]),
    (models.TagCount, "Stats", ["top_tags", "items"]),
    (models.ManifestParams, "Manifest", ["params"]),
    (models.LeaderboardModel, "Leaderboard", ["models", "items"]),
    (models.AgreementAlpha, "Agreement", ["ratings"]),
    (models.AgreementAlpha, "Agreement", ["comparisons"]),
    (models.AgreementRater, "Agreement", ["raters", "items"]),
]


def drift_errors(doc):
    errors = []
    for name, op in OPERATIONS.items():
        doc_op = doc["paths"].get(op.path, {}).get(op.method.lower())
        if doc_op is None:
            errors.append(f"{name}: {op.method} {op.path} not in the document")
        elif doc_op["operationId"] != op.operation_id:
            errors.append(f"{name}: operationId {doc_op['operationId']} in the document, {op.operation_id} in the client")
        elif any(p.get("in") == "query" for p in doc_op.get("parameters", [])):
            method = getattr(FeedbackdClient, name)
            want = {p["name"] for p in doc_op["parameters"] if p.get("in") == "query"}
            path_params = set(re.findall(r"\{(\w+)\}", op.path))
            got = set(typing.get_type_hints(method)) - {"return"} - path_params
            if want != got:
                errors.append(f"{name}: query {sorted(want)} in the document, {sorted(got)} in the client")
    schemas = doc["components"]["schemas"]

    def compare(cls, schema, where):
        if "properties" not in schema:
            return
        props, required = set(schema["properties"]), set(schema.get("required", []))
        keys = set(cls.__required_keys__) | set(cls.__optional_keys__)
        for k in sorted(props - keys):
            errors.append(f"{where}.{k}: in the document, missing in the client")
        if schema.get("additionalProperties") is False:
            for k in sorted(keys - props):
                errors.append(f"{where}.{k}: in the client, not in the document")
        for k in sorted((required ^ set(cls.__required_keys__)) & props & keys):
            errors.append(f"{where}.{k}: {'required' if k in required else 'optional'} in the document")

    for name, schema in schemas.items():
        cls = getattr(models, name, None)
        if cls is not None and typing.is_typeddict(cls):
            compare(cls, schema, name)
    for cls, name, path in NESTED:
        s = schemas[name]
        for step in path:
            s = s["items"] if step == "items" else s["properties"][step]
        compare(cls, s, f"{name}.{'.'.join(path)}")
    return errors


def test_client_and_document_agree():
    assert drift_errors(load_document()) == []


def test_client_covers_every_v1_operation():
    covered = {(o.method, o.path) for o in OPERATIONS.values()}
    doc = load_document()
    missing = [(m.upper(), p) for p, item in doc["paths"].items() if p.startswith("/v1/")
               for m in item if (m.upper(), p) not in covered]
    assert missing == []


def test_drift_is_noticed():
    doc = load_document()
    d = copy.deepcopy(doc)
    d["components"]["schemas"]["FeedbackItem"]["required"].append("model")
    d["components"]["schemas"]["Stats"]["properties"]["totals"]["properties"]["skips"] = {"type": "integer"}
    d["paths"]["/v1/keys"]["post"]["operationId"] = "makeKey"
    d["paths"]["/v1/stats"]["get"]["parameters"].append({"name": "shard", "in": "query", "schema": {"type": "integer"}})
    d["paths"]["/v1/statistics"] = d["paths"].pop("/v1/feedback/batch")
    errors = drift_errors(d)
    assert "FeedbackItem.model: required in the document" in errors
    assert "Stats.totals.skips: in the document, missing in the client" in errors
    assert "create_key: operationId makeKey in the document, createKey in the client" in errors
    assert any(e.startswith("get_stats: query ") for e in errors)
    assert "post_feedback_batch: POST /v1/feedback/batch not in the document" in errors
    assert len(errors) == 5, errors


# ---------------------------------------------------------------- against the server

def test_ingest_ids_duplicates_batches_retraction(feedbackd, db_sql):
    fd = client(feedbackd, "ingest")
    c = uniq("c")
    logged = fd.log_messages([
        {"id": f"{c}-u", "conversation_id": c, "role": "user", "content": "Q?"},
        {"id": f"{c}-a", "conversation_id": c, "parent_id": f"{c}-u", "role": "assistant", "content": "A."},
    ])
    assert [(r["index"], r["id"], r["status"]) for r in logged["results"]] == [(0, f"{c}-u", "stored"), (1, f"{c}-a", "stored")]
    event = {"kind": "rating", "message_id": f"{c}-a", "value": 1, "user": "u1"}
    first = fd.post_feedback(event)
    assert first["status"] == "stored"
    assert uuid.UUID(first["id"]).version == 4
    assert "id" not in event, "the caller's dict is not modified"
    assert fd.post_feedback({**event, "id": first["id"]}) == {"id": first["id"], "status": "duplicate"}
    batch = fd.post_feedback_batch([
        {"kind": "comment", "message_id": f"{c}-a", "comment": "ok", "id": f"{c}-e1"},
        {"kind": "edit", "message_id": f"{c}-a", "edited_content": "A!"},
        {"kind": "rating", "message_id": f"{c}-a", "value": 0},
    ])
    assert [r["status"] for r in batch["results"]] == ["stored", "stored", "error"]
    assert batch["results"][0]["id"] == f"{c}-e1"
    assert uuid.UUID(batch["results"][1]["id"])
    assert (batch["results"][2]["error"]["code"], batch["results"][2]["error"]["field"]) == ("invalid_field", "events[2].value")
    assert count(db_sql, f"{c}-a") == 3
    r = fd.retract_feedback(first["id"])
    assert (r["id"], r["status"]) == (first["id"], "retracted")


def test_errors_are_feedbackd_errors_and_4xx_not_retried(feedbackd):
    fd = client(feedbackd, "ingest")
    rec = Recorder(fd)
    with pytest.raises(FeedbackdError) as e1:
        fd.post_feedback({"kind": "rating", "message_id": "m1", "value": 3})
    assert (e1.value.status, e1.value.code, e1.value.field) == (400, "invalid_field", "value")
    assert e1.value.message and re.fullmatch(r"[0-9a-f]{16}", e1.value.request_id)
    with pytest.raises(FeedbackdError) as e2:
        fd.retract_feedback(uniq("nope"))
    assert (e2.value.status, e2.value.code, e2.value.field) == (404, "not_found", None)
    with pytest.raises(FeedbackdError) as e3:
        fd.get_stats()
    assert (e3.value.status, e3.value.code) == (403, "forbidden")
    assert rec.seen == [400, 404, 403]
    with pytest.raises(FeedbackdError) as e4:
        FeedbackdClient(feedbackd.base_url, "fbd_nope").list_keys()
    assert (e4.value.status, e4.value.code) == (401, "unauthorized")


def test_no_server_bounded_attempts_then_network_error():
    fd = FeedbackdClient("http://127.0.0.1:9", "k", attempts=3, base_delay=0.01)
    rec = Recorder(fd)
    with pytest.raises(FeedbackdError) as e:
        fd.list_keys()
    assert (e.value.status, e.value.code) == (0, "network_error")
    assert rec.seen == [0, 0, 0]


def test_answer_lost_after_commit_retry_reuses_the_id(feedbackd, db_sql):
    fd = client(feedbackd, "ingest")
    rec = Recorder(fd, lose_first_answer=True)
    m = uniq("m")
    got = fd.post_feedback({"kind": "comment", "message_id": m, "comment": "once"})
    assert rec.seen == [201, 200]
    assert got["status"] == "duplicate"
    assert db_sql("SELECT id FROM feedback WHERE message_id = %s", (m,)) == [(got["id"],)]
    rec.lose = True
    b = fd.post_feedback_batch([{"kind": "comment", "message_id": m, "comment": x} for x in "ab"])
    assert [r["status"] for r in b["results"]] == ["duplicate", "duplicate"]
    assert count(db_sql, m) == 3


def test_database_stopped_503_retried_until_back(feedbackd_factory, pg_factory):
    pg = pg_factory()
    srv = feedbackd_factory(database_url=pg.conninfo("postgres"))
    fd = client(srv, "ingest", attempts=40, base_delay=0.1, max_delay=0.5)
    rec = Recorder(fd)
    m = uniq("m")
    pg.stop()
    out = {}
    t = threading.Thread(target=lambda: out.update(r=fd.post_feedback({"kind": "comment", "message_id": m, "comment": "outage"})))
    t.start()
    try:
        # restart only after the client has seen a 503 (no fixed sleep deciding the outcome)
        wait_until(lambda: 503 in rec.seen, 20, what="a 503 while the database is down")
    finally:
        pg.start()
        t.join(60)
    assert out["r"]["status"] == "stored"
    assert rec.seen[-1] == 201
    assert pg.sql("SELECT count(*) FROM feedback WHERE message_id = %s", (m,)) == [(1,)]


def test_rate_limited_429_waits_for_retry_after(feedbackd_factory):
    srv = feedbackd_factory(args=["--rate-limit-rps", "1", "--rate-limit-burst", "1"])
    fd = client(srv, "ingest")
    rec = Recorder(fd)
    m = uniq("m")
    t0 = time.monotonic()
    a = fd.post_feedback({"kind": "comment", "message_id": m, "comment": "first"})
    b = fd.post_feedback({"kind": "comment", "message_id": m, "comment": "second"})
    assert (a["status"], b["status"]) == ("stored", "stored")
    assert rec.seen == [201, 429, 201]
    assert time.monotonic() - t0 >= 0.9, "the retry waited for Retry-After (1 s)"
    listed = FeedbackdClient(srv.base_url, srv.keys["read"]).list_feedback(limit=10)
    assert sorted(it["id"] for it in listed["items"]) == sorted([a["id"], b["id"]])
    impatient = FeedbackdClient(srv.base_url, srv.keys["ingest"], max_retry_after=0.01)
    with pytest.raises(FeedbackdError) as e:
        for _ in range(3):
            impatient.post_feedback({"kind": "comment", "message_id": m, "comment": "x"})
    assert (e.value.status, e.value.code) == (429, "rate_limited")
    assert e.value.retry_after >= 1


def test_reading_and_stats(feedbackd):
    ing, rd = client(feedbackd, "ingest"), client(feedbackd, "read")
    c, model = uniq("c"), uniq("model")
    ing.log_messages([
        {"id": f"{c}-u", "conversation_id": c, "role": "user", "content": "Q"},
        {"id": f"{c}-a", "conversation_id": c, "parent_id": f"{c}-u", "role": "assistant", "content": "A", "model": model},
    ])
    values = [1, 1, 1, -1, 1]
    ing.post_feedback_batch([{"kind": "rating", "message_id": f"{c}-a", "value": v, "user": f"r{i}"} for i, v in enumerate(values)])
    page = rd.list_feedback(model=model, limit=2)
    assert len(page["items"]) == 2 and page["next_cursor"]
    items = list(rd.iter_feedback(model=model, limit=2))
    assert sorted(it["value"] for it in items) == sorted(values)
    stats = rd.get_stats(model=model, group_by="model")
    assert (stats["totals"]["up"], stats["totals"]["down"], stats["totals"]["ratings"]) == (4, 1, 5)
    assert stats["totals"]["positive_rate"] == 0.8
    assert stats["groups"][0]["key"] == model


def test_export_iterator_manifest_early_close(feedbackd):
    ing, ex = client(feedbackd, "ingest"), client(feedbackd, "export")
    c, model = uniq("c"), uniq("mx")
    ing.log_messages([
        {"id": f"{c}-u", "conversation_id": c, "role": "user", "content": "Capital of France?"},
        {"id": f"{c}-a", "conversation_id": c, "parent_id": f"{c}-u", "role": "assistant", "content": "Lyon.", "model": model},
        {"id": f"{c}-b", "conversation_id": c, "parent_id": f"{c}-u", "role": "assistant", "content": "Paris.", "model": model},
    ])
    ing.post_feedback_batch([
        {"kind": "rating", "message_id": f"{c}-a", "value": -1, "user": "x"},
        {"kind": "rating", "message_id": f"{c}-b", "value": 1, "user": "x"},
    ])
    with ex.export(format="trl", model=model, include_meta=True) as stream:
        records = list(stream)
    assert uuid.UUID(stream.id) and stream.watermark
    assert len(records) == 1
    assert records[0]["prompt"] == [{"role": "user", "content": "Capital of France?"}]
    assert records[0]["chosen"] == [{"role": "assistant", "content": "Paris."}]
    assert records[0]["rejected"] == [{"role": "assistant", "content": "Lyon."}]
    assert records[0]["meta"]["margin"] == 2
    manifest = ex.get_export_manifest(stream.id)
    assert (manifest["id"], manifest["records"], manifest["params"]["model"]) == (stream.id, 1, model)
    with pytest.raises(RuntimeError):
        list(stream)

    n = 300
    ing.log_messages([t for i in range(n) for t in (
        {"id": f"{c}-q{i}", "conversation_id": f"{c}-{i}", "role": "user", "content": f"q{i}"},
        {"id": f"{c}-r{i}", "conversation_id": f"{c}-{i}", "parent_id": f"{c}-q{i}", "role": "assistant",
         "content": f"r{i}", "model": model})])
    ing.post_feedback_batch([{"kind": "rating", "message_id": f"{c}-r{i}", "value": 1, "user": "x"} for i in range(n)])
    with ex.export(format="sft", model=model) as s:
        it = iter(s)
        head = [next(it) for _ in range(10)]
    assert all("messages" in r for r in head)
    assert sum(1 for _ in ex.export(format="sft", model=model)) == n + 1  # and Paris.
    assert sum(1 for _ in ex.export(format="sft", model=model, after=stream.watermark)) == n
    # rater x gave every vote: without x nothing is left
    with ex.export(format="sft", model=model, exclude_users=["x", "nobody"]) as s:
        assert list(s) == []
    assert ex.get_export_manifest(s.id)["params"]["exclude_users"] == ["nobody", "x"]


def test_leaderboard_and_agreement(feedbackd):
    # two models, three raters preferring m-a's answer: m-a ranks above m-b
    ing, rd = client(feedbackd, "ingest"), client(feedbackd, "read")
    c = uniq("c")
    ma, mb = uniq("m-a"), uniq("m-b")
    ing.log_messages([
        {"id": f"{c}-u", "conversation_id": c, "role": "user", "content": "Q"},
        {"id": f"{c}-a", "conversation_id": c, "parent_id": f"{c}-u", "role": "assistant", "content": "A", "model": ma},
        {"id": f"{c}-b", "conversation_id": c, "parent_id": f"{c}-u", "role": "assistant", "content": "B", "model": mb},
    ])
    ing.post_feedback_batch([{"kind": "comparison", "message_id": f"{c}-a", "other_message_id": f"{c}-b", "user": f"{c}-r{i}"}
                             for i in range(3)])
    board = rd.get_leaderboard(min_battles=1, bootstrap=0)
    ours = {m["model"]: m for m in board["models"] if m["model"] in (ma, mb)}
    assert (ours[ma]["wins"], ours[ma]["losses"], ours[mb]["wins"], ours[mb]["losses"]) == (3, 0, 0, 3)
    assert ours[ma]["rating"] > ours[mb]["rating"]
    assert ours[ma]["ci95"] is None  # bootstrap=0
    agreement = rd.get_agreement()
    assert {f"{c}-r{i}" for i in range(3)} <= {r["user"] for r in agreement["raters"]}


def test_administration(feedbackd):
    admin = client(feedbackd, "admin")
    assert admin.get_project()["slug"] == feedbackd.project
    assert admin.update_project({"name": "Renamed by the Python client"})["name"] == "Renamed by the Python client"
    created = admin.create_key(["read"], label="py")
    assert re.fullmatch(r"fbd_[0-9a-f]{48}", created["key"])
    assert any(k["id"] == created["id"] and k["revoked_at"] is None for k in admin.list_keys()["items"])
    assert FeedbackdClient(feedbackd.base_url, created["key"]).list_feedback(limit=1)["items"] is not None
    assert admin.revoke_key(created["id"])["revoked_at"]
    user = uniq("u")
    client(feedbackd, "ingest").post_feedback_batch([{"kind": "comment", "message_id": "mm", "comment": "c", "user": user}] * 2)
    assert admin.erase_user(user) == {"user": user, "feedback_deleted": 2}

    hook = admin.create_webhook("https://hooks.example.com/feedbackd", ["feedback.stored"])
    assert hook["secret"].startswith("whsec_")
    assert any(w["id"] == hook["id"] for w in admin.list_webhooks()["items"])
    assert isinstance(admin.list_webhook_deliveries(hook["id"], limit=5)["items"], list)
    assert admin.delete_webhook(hook["id"])["id"] == hook["id"]
    with pytest.raises(FeedbackdError) as gone:
        admin.delete_webhook(hook["id"])
    assert (gone.value.status, gone.value.code) == (404, "not_found")


def test_package_is_typed():
    assert os.path.isfile(os.path.join(os.path.dirname(fc.__file__), "py.typed"))


def test_readme_python_example_runs(feedbackd_factory):
    # a server of its own: the example's ids (m1, c1, ...) and its export see nothing else
    srv = feedbackd_factory()
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    section = next(s for s in re.split(r"^#+ ", readme, flags=re.M) if s.startswith("Client packages"))
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1
    env = dict(os.environ, FEEDBACKD_URL=srv.base_url, FEEDBACKD_INGEST_KEY=srv.keys["ingest"],
               FEEDBACKD_EXPORT_KEY=srv.keys["export"], PYTHONPATH=os.path.join(REPO, "clients", "python"))
    r = subprocess.run([sys.executable, "-c", blocks[0]], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "['stored', 'stored']"
    assert lines[1] == "400 invalid_field value"
    # two raters prefer Paris (a thumbs pair and a comparison): one record after dedup
    assert lines[2:-1] == ["Paris. > Lyon."], r.stdout
    assert re.fullmatch(r"1 records, next: after=\S+", lines[-1]), r.stdout
    assert json.loads(srv.get("/v1/stats", key="read").text)["totals"]["comparisons"] == 1
