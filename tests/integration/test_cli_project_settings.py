"""`feedbackd projects set|create|show` with the project settings of PATCH /v1/project
(docs/operations.md "Project settings"): every flag, set on the server's database while the
server runs, is what GET /v1/project (read from the database on every call) and the features
using it see; every invalid value is refused by the command line with exit 2 and exactly the
reason PATCH /v1/project gives for the same value, and changes nothing. Expected values are
written out here from the contract, never read back from the server."""

import json
import time

import pytest

from ingest_helpers import new_id

REACTIONS = [{"name": "fire", "emoji": "🔥", "value": 1}, {"name": "meh", "emoji": "😐", "value": -0.5}]
SPAN_LABELS = [{"name": "made_up", "value": -1}, {"name": "spot_on", "value": 1}]


def project(fd):
    r = fd.get("/v1/project", key="admin")
    assert r.status_code == 200, r.text
    return r.json()


def cli_set(fd, *flags):
    r = fd.cli("projects", "set", fd.project, *flags, check=False)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def eventually(check, seconds=5.0):
    """check() true within `seconds` (a setting a server process caches, docs/api.md)."""
    end = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < end, "not seen in time"
        time.sleep(0.2)


def test_each_flag_is_seen_by_the_running_server(feedbackd):
    fd = feedbackd
    before = project(fd)
    # the settings the flags stand for, as GET /v1/project shows them
    cases = [
        (["--reactions", json.dumps(REACTIONS)], {"reactions": REACTIONS}),
        (["--span-labels", json.dumps(SPAN_LABELS)], {"span_labels": SPAN_LABELS}),
        (["--default-consent", "none"], {"default_consent": "none"}),
        (["--dataset-license", "CC-BY-SA-4.0 OR MIT"], {"dataset_license": "CC-BY-SA-4.0 OR MIT"}),
        (["--detect-feedback", "off"], {"detect_feedback": False}),
        (["--detect-phrases", '{"complaint": ["not my cup of tea"]}'],
         {"detect_phrases": {"praise": [], "complaint": ["not my cup of tea"], "correction": []}}),
        (["--retention-days", "400"], {"retention_days": 400}),
    ]
    want = dict(before)
    for flags, change in cases:
        want.update(change)
        printed = cli_set(fd, *flags)
        assert printed == want, flags  # the other settings stay as they are
        assert project(fd) == want, flags
    shown = fd.cli("projects", "show", fd.project)
    assert json.loads(shown.stdout) == want

    # ... and the features using them follow, each within its documented time
    assert fd.get("/v1/reactions", key="ingest").json() == {"reactions": REACTIONS}
    assert fd.get("/v1/span-labels", key="ingest").json() == {"span_labels": SPAN_LABELS}
    mid = new_id("m-cli")

    def reaction(emoji):
        ev = {"id": new_id("rx"), "kind": "reaction", "message_id": mid, "emoji": emoji}
        return fd.post("/v1/feedback", key="ingest", json=ev).status_code

    eventually(lambda: reaction("🔥") == 201 and reaction("love") == 400)  # reaction sets: 1 s
    r = fd.post("/v1/messages", key="ingest", json={"messages": [
        {"id": mid, "conversation_id": "c-" + mid, "role": "assistant", "content": "Paris is in Spain."}]})
    assert r.status_code == 200, r.text
    span = {"id": new_id("sp"), "kind": "span", "message_id": mid, "start": 12, "end": 17, "label": "made_up"}
    assert fd.post("/v1/feedback", key="ingest", json=span).status_code == 201
    assert fd.get(f"/v1/users/{new_id('u')}/consent", key="read").json()["train"] is False

    # the words that stand for null and true
    assert cli_set(fd, "--dataset-license", "none", "--retention-days", "keep", "--detect-feedback=on") == dict(
        want, dataset_license=None, retention_days=None, detect_feedback=True)
    assert project(fd)["dataset_license"] is None
    # several flags at once, back to the settings the module started with
    restore = ["--reactions", json.dumps(before["reactions"]), "--span-labels", json.dumps(before["span_labels"]),
               "--default-consent", before["default_consent"], "--detect-phrases", json.dumps(before["detect_phrases"])]
    assert cli_set(fd, *restore) == before
    assert project(fd) == before


def test_create_takes_the_settings(feedbackd):
    fd = feedbackd
    slug = new_id("cs").lower()[:40]
    r = fd.cli("projects", "create", slug, "--name", "With settings", "--span-labels", json.dumps(SPAN_LABELS),
               "--reactions", json.dumps(REACTIONS), "--default-consent", "none", "--dataset-license", "MIT",
               "--detect-feedback", "off", "--retention-days", "30")
    assert r.stdout.strip() == slug
    key = fd.create_key("admin", project=slug)
    got = fd.get("/v1/project", key=key).json()
    assert {k: got[k] for k in ("slug", "name", "reactions", "span_labels", "default_consent", "dataset_license",
                                "detect_feedback", "retention_days")} == {
        "slug": slug, "name": "With settings", "reactions": REACTIONS, "span_labels": SPAN_LABELS,
        "default_consent": "none", "dataset_license": "MIT", "detect_feedback": False, "retention_days": 30}
    assert json.loads(fd.cli("projects", "show", slug).stdout) == got


# (flag, text given to the command line, the same value in a PATCH body, the field refused)
INVALID = [
    ("reactions", '{"love": 1}', {"love": 1}, "reactions"),
    ("reactions", "[]", [], "reactions"),
    ("reactions", '[{"name": "Fire", "emoji": "🔥", "value": 1}]', [{"name": "Fire", "emoji": "🔥", "value": 1}],
     "reactions[0].name"),
    ("reactions", '[{"name": "a", "emoji": "x", "value": 1}, {"name": "b", "emoji": "x", "value": 1}]',
     [{"name": "a", "emoji": "x", "value": 1}, {"name": "b", "emoji": "x", "value": 1}], "reactions[1].emoji"),
    ("reactions", '[{"name": "a", "emoji": "x", "value": 2}]', [{"name": "a", "emoji": "x", "value": 2}],
     "reactions[0].value"),
    ("reactions", "null", None, "reactions"),
    ("span-labels", "[]", [], "span_labels"),
    ("span-labels", '"wrong"', "wrong", "span_labels"),
    ("span-labels", '[{"name": "a", "value": 1}, {"name": "a", "value": -1}]',
     [{"name": "a", "value": 1}, {"name": "a", "value": -1}], "span_labels[1]"),
    ("span-labels", '[{"name": "a", "value": 2}]', [{"name": "a", "value": 2}], "span_labels[0]"),
    ("span-labels", '[{"name": "", "value": 0}]', [{"name": "", "value": 0}], "span_labels[0]"),
    ("span-labels", '[{"name": "a", "value": 1, "colour": "red"}]', [{"name": "a", "value": 1, "colour": "red"}],
     "span_labels[0]"),
    ("default-consent", "yes", "yes", "default_consent"),
    ("default-consent", "TRAIN", "TRAIN", "default_consent"),
    ("default-consent", "", "", "default_consent"),
    ("dataset-license", "", "", "dataset_license"),
    ("dataset-license", "-MIT", "-MIT", "dataset_license"),
    ("dataset-license", "MIT  OR X", "MIT  OR X", "dataset_license"),
    ("dataset-license", "MIT ", "MIT ", "dataset_license"),
    ("dataset-license", "MIT;", "MIT;", "dataset_license"),
    ("dataset-license", "a" * 101, "a" * 101, "dataset_license"),
    ("detect-feedback", "maybe", "maybe", "detect_feedback"),
    ("detect-phrases", '{"thanks": []}', {"thanks": []}, "detect_phrases.thanks"),
    ("retention-days", "0", 0, "retention_days"),
    ("retention-days", "1.5", "1.5", "retention_days"),
]


@pytest.mark.parametrize("flag, text, value, field", INVALID)
def test_invalid_value_refused_as_the_api_refuses_it(feedbackd, flag, text, value, field):
    fd = feedbackd
    before = project(fd)
    api = fd.patch("/v1/project", key="admin", json={field.split("[")[0].split(".")[0]: value})
    assert api.status_code == 400, api.text
    err = api.json()["error"]
    assert (err["code"], err["field"]) == ("invalid_field", field), err
    for cmd in (["set", fd.project], ["create", new_id("bad").lower()[:40]]):
        r = fd.cli("projects", *cmd, f"--{flag}", text, check=False)
        assert r.returncode == 2 and r.stdout == "", (cmd, r.stdout, r.stderr)
        assert r.stderr == f"feedbackd: {err['message']} ({field})\n", cmd
        if cmd[0] == "create":  # a refused value creates nothing
            assert "no project" in fd.cli("projects", "show", cmd[1], check=False).stderr
    assert project(fd) == before


@pytest.mark.parametrize("args, says", [
    (["--reactions", "[{nope"], "--reactions is not JSON"),
    (["--span-labels", ""], "--span-labels is not JSON"),
    (["--reactions"], "--reactions needs a value"),
    (["--reaction", "[]"], "does not take '--reaction'"),
    (["--default-consent", "none", "--dataset-licence=MIT"], "does not take '--dataset-licence=MIT'"),
    (["--default-consent", "none", "extra"], "does not take 'extra'"),
    ([], "usage"),
])
def test_command_line_mistakes(feedbackd, args, says):
    before = project(feedbackd)
    r = feedbackd.cli("projects", "set", feedbackd.project, *args, check=False)
    assert r.returncode == 2 and says in r.stderr and r.stdout == "", r.stderr
    assert project(feedbackd) == before


def test_unknown_project(feedbackd):
    r = feedbackd.cli("projects", "set", "no-such-project", "--default-consent", "none", check=False)
    assert r.returncode == 1 and "no project 'no-such-project'" in r.stderr
    r = feedbackd.cli("projects", "create", feedbackd.project, "--default-consent", "none", check=False)
    assert r.returncode == 1 and "exists already" in r.stderr
