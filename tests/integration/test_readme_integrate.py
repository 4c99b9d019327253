"""The README's "Integrate" examples that are not client code, run as written against the real
server (the client examples run in test_client_python.py and tests/e2e/client_js.test.mjs):

- the `curl` line that fetches the OpenAPI document, which must be docs/openapi.json;
- the `curl` that registers a webhook (an admin key in $ADMIN_KEY), pointed at a local receiver
  (the server runs with webhook_allow_private), whose answer has the fields the README shows;
- the Standard Webhooks verification snippet (npm `standardwebhooks`), run by the receiver
  (webhook_receiver.mjs) on the real deliveries of the events the README subscribes to: each
  must verify and give the event the README describes, the same body with a field added must not.

The examples are taken from README.md each run: a change there that breaks them fails here.
Only the server's address and the receiver's URL are substituted."""

import json
import os
import re
import subprocess
import uuid

import pytest

from helpers import REPO, wait_until
from ingest_helpers import rating
from webhook_helpers import FAST, Receiver, python_verify

README_URL = "http://127.0.0.1:8080"  # the default `listen`, as the README's examples use it


def integrate_section():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    sections = [s for s in re.split(r"^## ", readme, flags=re.M) if s.startswith("Integrate\n")]
    assert len(sections) == 1, 'README.md has one "## Integrate" section'
    return sections[0]


def blocks(lang, containing):
    found = [b for b in re.findall(r"```" + lang + r"\n(.*?)```", integrate_section(), re.S) if containing in b]
    assert len(found) == 1, f"one ```{lang} block with {containing!r} under Integrate, found {len(found)}"
    return found[0]


def run_sh(code, cwd, **env):
    # no proxy variables: the examples talk to 127.0.0.1 as an operator's shell would
    clean = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    r = subprocess.run(["sh", "-ec", code], cwd=cwd, env={**clean, **env}, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, f"README example failed ({r.returncode}):\n{code}\n{r.stdout}\n{r.stderr}"
    return r.stdout


def with_server(code, fd):
    assert code.count(README_URL) >= 1, f"the example no longer uses {README_URL}:\n{code}"
    return code.replace(README_URL, fd.base_url)


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.stop()


def test_readme_curl_fetches_the_openapi_document(feedbackd, tmp_path):
    code = blocks("sh", "/openapi.json")
    [out_file] = re.findall(r"-o (\S+)", code)
    run_sh(with_server(code, feedbackd), tmp_path)
    with open(tmp_path / out_file, encoding="utf-8") as f:
        served = json.load(f)
    with open(os.path.join(REPO, "docs", "openapi.json"), encoding="utf-8") as f:
        assert served == json.load(f)
    assert served["openapi"].startswith("3.1")


def test_readme_webhook_registration_and_verification_run_on_a_real_delivery(feedbackd_factory, receiver, tmp_path):
    fd = feedbackd_factory(env=FAST)
    register = blocks("sh", "/v1/webhooks")
    [sent] = re.findall(r"-d '(.*?)'", register, re.S)  # the request body
    example_url, events = json.loads(sent)["url"], json.loads(sent)["events"]
    path = f"/readme-{uuid.uuid4().hex}"
    code = with_server(register, fd).replace(example_url, receiver.base + path)
    answer = json.loads(run_sh(code, tmp_path, ADMIN_KEY=fd.keys["admin"]))

    # the answer has the fields the comment under the command shows, the secret among them
    [shown] = re.findall(r"^# (\{.*\})$", register, re.M)
    assert set(answer) == set(re.findall(r'"(\w+)":', shown))
    assert answer["url"] == receiver.base + path and answer["events"] == events
    assert answer["secret"].startswith("whsec_")
    listed = fd.get("/v1/webhooks", key="admin").json()["items"]
    assert [(w["id"], w["url"]) for w in listed] == [(answer["id"], receiver.base + path)]

    snippet = blocks("js", "standardwebhooks")
    receiver.config(path, answer["secret"], "ok", snippet=snippet)

    # one event of each type the README subscribes to
    assert sorted(events) == ["export.finished", "feedback.stored"]
    ev = rating(value=1)
    assert fd.post("/v1/feedback", key="ingest", json=ev).status_code == 201
    exp = fd.get("/v1/export", key="export", params={"format": "kto"})
    assert exp.status_code == 200, exp.text
    export_id = exp.headers["X-Export-Id"]
    wait_until(lambda: len(receiver.received(path)) >= 2, timeout=20, what="two deliveries")
    recs = receiver.received(path)
    assert len(recs) == 2

    # the README: `event = {type, timestamp, data}`
    fields = re.search(r"event = \{([^}]*)\}", snippet).group(1)
    for rec in recs:
        assert rec["verified"], f"the README's snippet refused a real delivery: {rec['error']}"
        assert python_verify(answer["secret"], rec)  # the same delivery, checked without the library
        assert rec["event"] == json.loads(rec["body"])
        assert set(rec["event"]) == {f.strip() for f in fields.split(",")}
        assert rec["tamperedError"], "the README's snippet accepted a tampered body"
        tampered = dict(rec, body=re.sub(r"\}\s*$", ',"tampered":true}', rec["body"]))
        assert not python_verify(answer["secret"], tampered)
    by_type = {r["event"]["type"]: r["event"]["data"] for r in recs}
    assert by_type["feedback.stored"]["id"] == ev["id"]
    assert by_type["export.finished"]["id"] == export_id

    [item] = [w for w in fd.get("/v1/webhooks", key="admin").json()["items"]]
    assert item["pending"] == 0 and item["failed"] == 0
    ds = fd.get(f"/v1/webhooks/{answer['id']}/deliveries", key="admin").json()["items"]
    assert sorted(d["status"] for d in ds) == ["delivered", "delivered"]
