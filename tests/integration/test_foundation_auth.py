"""API keys and authentication (docs/api.md "Conventions", "Administration", "Operating contract"):
`keys create` output and storage, 401 for missing/unknown/revoked keys, 403 for a missing
scope, revocation effective within a second."""

import hashlib
import re
import time

import pytest

from helpers import error_body


def key_row(db_sql, key):
    rows = db_sql("SELECT id::text, prefix, sha256, scopes, revoked_at FROM api_keys WHERE sha256 = %s",
                  (hashlib.sha256(key.encode()).digest(),))
    return rows[0] if rows else None


def test_keys_create_prints_only_the_key_and_stores_only_its_hash(feedbackd, db_sql):
    r = feedbackd.cli("keys", "create", "--project", feedbackd.project, "--scopes", "read,export", "--label", "ci")
    assert r.stdout.count("\n") == 1 and r.stdout.endswith("\n"), repr(r.stdout)
    key = r.stdout[:-1]
    assert key and key == key.strip() and not re.search(r"\s", key), repr(key)
    assert len(key) >= 32, "a key needs enough entropy to be unguessable"

    expected = hashlib.sha256(key.encode()).digest()  # computed here, independently of the server
    rows = db_sql("SELECT sha256, scopes, label FROM api_keys WHERE sha256 = %s", (expected,))
    assert len(rows) == 1
    assert bytes(rows[0][0]) == expected
    assert sorted(rows[0][1]) == ["export", "read"] and rows[0][2] == "ci"
    # the key itself is stored nowhere in the table, in any column
    leaked = db_sql("SELECT count(*) FROM api_keys k WHERE position(%s in row_to_json(k)::text) > 0", (key,))
    assert leaked == [(0,)]
    # and it works, with exactly its scopes
    assert feedbackd.get("/v1/keys", key=key).status_code == 403


def test_keys_create_rejects_bad_input(feedbackd):
    r = feedbackd.cli("keys", "create", "--project", feedbackd.project, "--scopes", "read,fly", check=False)
    assert r.returncode != 0 and r.stdout == ""
    r = feedbackd.cli("keys", "create", "--project", "no-such-project", "--scopes", "read", check=False)
    assert r.returncode != 0 and r.stdout == ""
    r = feedbackd.cli("keys", "create", "--scopes", "read", check=False)
    assert r.returncode != 0 and r.stdout == ""


def test_keys_list_cli_shows_prefix_not_key(feedbackd):
    r = feedbackd.cli("keys", "list", "--project", feedbackd.project)
    assert r.returncode == 0
    for scope, key in feedbackd.keys.items():
        assert key not in r.stdout
    assert feedbackd.keys["admin"][:8] in r.stdout


def test_401_missing_unknown_malformed_key(feedbackd):
    cases = [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer fbd_" + "0" * 48},
        {"Authorization": "Bearer not-a-key"},
        {"Authorization": "Basic " + feedbackd.keys["admin"]},
        {"Authorization": feedbackd.keys["admin"]},
        {"Authorization": "Bearer " + feedbackd.keys["admin"][:-1]},
    ]
    for headers in cases:
        r = feedbackd.get("/v1/project", headers=headers)
        assert r.status_code == 401, headers
        err = error_body(r)
        assert err["code"] == "unauthorized"
    assert feedbackd.get("/v1/project", key="admin").status_code == 200


@pytest.mark.parametrize("key, method, path, body", [
    ("read", "GET", "/v1/project", None),
    ("ingest", "GET", "/v1/project", None),
    ("export", "PATCH", "/v1/project", {"name": "x"}),
    ("read", "GET", "/v1/keys", None),
    ("ingest", "POST", "/v1/keys", {"scopes": ["admin"]}),
    ("export", "DELETE", "/v1/keys/00000000-0000-4000-8000-000000000000", None),
])
def test_403_key_without_the_scope(feedbackd, key, method, path, body):
    r = feedbackd.request(method, path, key=key, json=body)
    assert r.status_code == 403, r.text
    assert error_body(r)["code"] == "forbidden"


def wait_401(fd, key, path="/v1/project", limit=2.0):
    """Poll until the key is refused; returns the seconds it took (fails after limit)."""
    t0 = time.monotonic()
    while True:
        r = fd.get(path, key=key)
        if r.status_code == 401:
            assert error_body(r)["code"] == "unauthorized"
            return time.monotonic() - t0
        assert r.status_code == 200, r.text
        assert time.monotonic() - t0 < limit, f"revoked key still accepted after {limit} s"
        time.sleep(0.05)


def test_revoke_with_cli_effective_within_a_second(feedbackd, db_sql):
    key = feedbackd.create_key("admin", label="to-revoke-cli")
    assert feedbackd.get("/v1/project", key=key).status_code == 200  # now in the key cache
    key_id = key_row(db_sql, key)[0]
    r = feedbackd.cli("keys", "revoke", key_id)
    assert r.returncode == 0
    wait_401(feedbackd, key)
    assert key_row(db_sql, key)[4] is not None
    assert feedbackd.get("/v1/project", key="admin").status_code == 200  # other keys unaffected


def test_revoke_with_api_effective_within_a_second(feedbackd, db_sql):
    key = feedbackd.create_key("read,admin", label="to-revoke-api")
    assert feedbackd.get("/v1/keys", key=key).status_code == 200
    key_id = key_row(db_sql, key)[0]
    r = feedbackd.delete(f"/v1/keys/{key_id}", key="admin")
    assert r.status_code == 200, r.text
    wait_401(feedbackd, key, path="/v1/keys")


def test_revoke_unknown_key_cli(feedbackd):
    r = feedbackd.cli("keys", "revoke", "00000000-0000-4000-8000-000000000000", check=False)
    assert r.returncode != 0


def test_admin_key_is_confined_to_its_project(feedbackd, db_sql):
    feedbackd.cli("projects", "create", "other")
    other_admin = feedbackd.create_key("admin", project="other")
    victim = feedbackd.keys["read"]
    victim_id = key_row(db_sql, victim)[0]
    r = feedbackd.delete(f"/v1/keys/{victim_id}", key=other_admin)
    assert r.status_code == 404, r.text
    assert error_body(r)["code"] == "not_found"
    assert key_row(db_sql, victim)[4] is None
    ids = {k["id"] for k in feedbackd.get("/v1/keys", key=other_admin).json()["items"]}
    assert victim_id not in ids and key_row(db_sql, other_admin)[0] in ids
    r = feedbackd.get("/v1/project", key=other_admin)
    assert r.json()["slug"] == "other"
