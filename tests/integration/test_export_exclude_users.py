"""exclude_users=u1,u2 on GET /v1/export and `feedbackd export --exclude-users` (docs/api.md
"Export"): the excluded raters' events count nowhere, as if they had never been sent. The
oracle is the server's other path to the same state: a second instance with the same data in
which those raters were erased (DELETE /v1/users/{user}) — every format must give the same
records. Also: the manifest records the list, and bad lists are 400."""

import pytest

import export_data as D

FORMATS = ["trl", "trl-text", "kto", "openai", "hh", "sft"]
EXCLUDED = ["v4", "w2", "uf"]  # a re-voter of Red/Blue, a Red/Green voter, a thumbs rater


@pytest.fixture(scope="module")
def fd(feedbackd):
    D.load(feedbackd)
    return feedbackd


@pytest.fixture(scope="module")
def erased(pg):
    """The same data in another instance, with the excluded raters erased."""
    from helpers import Feedbackd
    other = Feedbackd(pg.conninfo(pg.create_database("exclude_oracle")), name="oracle")
    try:
        other.setup()
        other.start()
        D.load(other)
        for user in EXCLUDED:
            assert other.delete(f"/v1/users/{user}", key="admin").status_code == 200
        yield other
    finally:
        other.destroy()


def ids_of(user):
    return {ev["id"] for ev in D.EVENTS if ev.get("user") == user}


@pytest.mark.parametrize("fmt", FORMATS)
def test_excluding_equals_erasing(fd, erased, fmt):
    r, _, recs = D.export(fd, format=fmt, exclude_users=",".join(EXCLUDED), include_meta="true")
    assert r.status_code == 200, r.text
    r2, _, want = D.export(erased, format=fmt, include_meta="true")
    assert r2.status_code == 200, r2.text
    assert D.multiset(recs) == D.multiset(want)
    gone = set().union(*(ids_of(u) for u in EXCLUDED))
    for rec in recs:
        assert not gone & set(rec["meta"]["feedback_ids"]), rec
    assert sorted(sorted(r["meta"]["feedback_ids"]) for r in recs) == \
        sorted(sorted(r["meta"]["feedback_ids"]) for r in want)


def test_the_exclusion_changes_the_export(fd):
    """Guards the test above: without the parameter the records differ."""
    _, _, all_recs = D.export(fd, format="trl")
    _, _, fewer = D.export(fd, format="trl", exclude_users=",".join(EXCLUDED))
    assert D.multiset(all_recs) != D.multiset(fewer)
    _, _, same = D.export(fd, format="trl", exclude_users="nobody-here")
    assert D.multiset(same) == D.multiset(all_recs)


def test_manifest_records_the_list(fd):
    r, _, _ = D.export(fd, format="kto", exclude_users="w2,v4,w2")
    m = fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()
    assert m["params"]["exclude_users"] == ["v4", "w2"]
    r, _, _ = D.export(fd, format="kto")
    m = fd.get(f"/v1/exports/{r.headers['X-Export-Id']}", key="export").json()
    assert m["params"]["exclude_users"] is None


@pytest.mark.parametrize("value", ["", ",", "v4,", ",v4", "v4,,w2", "\udcff"])
def test_bad_lists(fd, value):
    r = fd.get("/v1/export", key="export",
               params={"format": "trl", "exclude_users": value.encode("utf-8", "surrogateescape")})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid_parameter" and err["field"] == "exclude_users" and err["message"]


def test_cli_flag(fd):
    r = fd.cli("export", "--project", "test", "--format", "trl", "--exclude-users", ",".join(EXCLUDED))
    _, _, want = D.export(fd, format="trl", exclude_users=",".join(EXCLUDED))
    assert D.multiset(D.parse_ndjson(r.stdout)) == D.multiset(want)
    bad = fd.cli("export", "--project", "test", "--exclude-users", "a,,b", check=False)
    assert bad.returncode != 0 and "--exclude-users" in bad.stderr
