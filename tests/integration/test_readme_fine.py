"""The README's first steps, run as written against the real server: the "Try it" `curl`
commands, then the span and step events it shows (docs/api.md "Span feedback", "Step
feedback"), then `GET /v1/export` in the formats `prm` and `spans`: each must give the line
the README's format table shows for it — the same JSON with numbers written alike (`-1.0`, not
`-1`); the `prompt` the table abbreviates as `[…]` is checked against the logged turn. The examples are read from README.md each run; only the
server's address and the key are substituted."""

import json
import os
import re
import subprocess

from export_data import export
from helpers import REPO

README_HOST = "localhost:8080"  # the default `listen`, as the README's examples use it


def readme():
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        return f.read()


def one_block(lang, containing):
    found = [b for b in re.findall(r"```" + lang + r"\n(.*?)```", readme(), re.S) if containing in b]
    assert len(found) == 1, f"one ```{lang} block with {containing!r} in README.md, found {len(found)}"
    return found[0]


def table_line(fmt):
    """The example line of a format in the README's export table: | `fmt` | for | `line` |."""
    rows = re.findall(r"^\| `" + re.escape(fmt) + r"` \|[^|]*\| `(.*)` \|$", readme(), re.M)
    assert len(rows) == 1, f"one row for format {fmt} in the README's export table"
    return rows[0]


def test_readme_span_and_step_events_give_the_prm_and_spans_lines_it_shows(feedbackd, tmp_path):
    # 1. "Try it": the turns and the comparison, with the key the README says to set
    code = one_block("sh", "/v1/messages")
    assert re.search(r"^KEY=\S+", code, re.M), "the example sets KEY first"
    code = re.sub(r"^KEY=.*$", "", code, flags=re.M).replace(README_HOST, feedbackd.base_url.split("//")[1])
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    r = subprocess.run(["sh", "-ec", code], cwd=tmp_path, env={**env, "KEY": feedbackd.keys["ingest"]},
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # 2. the span and the step event, as shown
    events = [json.loads(line) for line in one_block("json", '"kind": "span"').splitlines() if line.strip()]
    assert sorted(e["kind"] for e in events) == ["span", "step"]
    for ev in events:
        resp = feedbackd.post("/v1/feedback", key="ingest", json=ev)
        assert resp.status_code == 201, resp.text
    stored = {i["id"]: i for i in feedbackd.get("/v1/feedback", key="read", params={"limit": 100}).json()["items"]}
    span = next(e for e in events if e["kind"] == "span")
    content = stored[span["id"]]["original_content"]
    assert content[span["start"]:span["end"]] == span["quote"], "the README's offsets cut its quote (code points)"
    # 3. the export lines the README's table shows: the same JSON, numbers written alike (the
    # README spaces its lines for reading; the server writes them compact)
    def compact(text):
        return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)

    resp, body, _ = export(feedbackd, format="prm", split="all")
    assert resp.status_code == 200, resp.text
    assert body.decode().strip() == compact(table_line("prm")), "format=prm gives the README's line"
    resp, body, recs = export(feedbackd, format="spans", split="all")
    assert resp.status_code == 200, resp.text
    shown = table_line("spans")
    assert '"prompt": […]' in shown
    [rec] = recs
    assert rec["prompt"] == [{"role": "user", "content": "Capital of France?"}]
    shown = shown.replace("[…]", json.dumps(rec["prompt"]), 1)
    assert body.decode().strip() == compact(shown), "format=spans gives the README's line (its prompt abbreviated)"
