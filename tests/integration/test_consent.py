"""Consent and licence (docs/api.md "Consent and licence"): PUT/GET
/v1/users/{user}/consent with the ingest-key opt-out-only rule, the project settings
default_consent and dataset_license with their validation, and erasure removing the consent
record. Expected values are written out here from the contract."""

from datetime import datetime, timedelta, timezone

import pytest

from ingest_helpers import new_id


def consent(fd, user, key="read"):
    r = fd.get(f"/v1/users/{user}/consent", key=key)
    assert r.status_code == 200, r.text
    return r.json()


def test_default_is_train_without_record(feedbackd):
    user = new_id("cu")
    assert consent(feedbackd, user) == {"user": user, "train": True, "updated_at": None}
    p = feedbackd.get("/v1/project", key="admin").json()
    assert p["default_consent"] == "train" and p["dataset_license"] is None


def test_ingest_key_opts_out_only(feedbackd):
    user = new_id("cu")
    r = feedbackd.put(f"/v1/users/{user}/consent", key="ingest", json={"train": False})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["user"] == user and got["train"] is False
    when = datetime.fromisoformat(got["updated_at"].replace("Z", "+00:00"))
    assert abs(datetime.now(timezone.utc) - when) < timedelta(minutes=5)
    assert consent(feedbackd, user) == got
    r = feedbackd.put(f"/v1/users/{user}/consent", key="ingest", json={"train": True})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert consent(feedbackd, user)["train"] is False
    r = feedbackd.put(f"/v1/users/{user}/consent", key="admin", json={"train": True})
    assert r.status_code == 200 and r.json()["train"] is True
    assert consent(feedbackd, user)["train"] is True


@pytest.mark.parametrize("body, code, field", [
    ({}, "missing_field", "train"),
    ({"train": "no"}, "invalid_field", "train"),
    ({"train": 0}, "invalid_field", "train"),
    ({"train": False, "why": "x"}, "unknown_field", "why"),
])
def test_put_validation(feedbackd, body, code, field):
    r = feedbackd.put("/v1/users/u-val/consent", key="admin", json=body)
    assert r.status_code == 400, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == (code, field)


def test_user_too_long(feedbackd):
    r = feedbackd.get("/v1/users/" + "u" * 129 + "/consent", key="read")
    assert r.status_code == 400 and r.json()["error"]["field"] == "user"


def test_scopes(feedbackd):
    assert feedbackd.get("/v1/users/u1/consent", key="ingest").status_code == 403
    assert feedbackd.put("/v1/users/u1/consent", key="read", json={"train": False}).status_code == 403


def test_erasure_removes_consent(feedbackd):
    user = new_id("cu")
    assert feedbackd.put(f"/v1/users/{user}/consent", key="ingest", json={"train": False}).status_code == 200
    assert feedbackd.delete(f"/v1/users/{user}", key="admin").status_code == 200
    assert consent(feedbackd, user) == {"user": user, "train": True, "updated_at": None}


def test_settings_default_consent_and_license(feedbackd_factory):
    fd = feedbackd_factory()
    r = fd.patch("/v1/project", key="admin", json={"default_consent": "none", "dataset_license": "CC-BY-4.0"})
    assert r.status_code == 200, r.text
    assert (r.json()["default_consent"], r.json()["dataset_license"]) == ("none", "CC-BY-4.0")
    assert consent(fd, "nobody")["train"] is False  # the default applies to raters without a record
    assert fd.put("/v1/users/yes/consent", key="admin", json={"train": True}).status_code == 200
    assert consent(fd, "yes")["train"] is True
    r = fd.patch("/v1/project", key="admin", json={"dataset_license": None})
    assert r.status_code == 200 and r.json()["dataset_license"] is None
    assert r.json()["default_consent"] == "none"  # untouched by a PATCH without it
    r = fd.patch("/v1/project", key="admin", json={"dataset_license": "MIT OR Apache-2.0"})
    assert r.json()["dataset_license"] == "MIT OR Apache-2.0"


@pytest.mark.parametrize("body, field", [
    ({"default_consent": "yes"}, "default_consent"),
    ({"default_consent": True}, "default_consent"),
    ({"default_consent": None}, "default_consent"),
    ({"dataset_license": ""}, "dataset_license"),
    ({"dataset_license": "-MIT"}, "dataset_license"),
    ({"dataset_license": "MIT;"}, "dataset_license"),
    ({"dataset_license": "MIT  OR X"}, "dataset_license"),
    ({"dataset_license": "a" * 101}, "dataset_license"),
    ({"dataset_license": 3}, "dataset_license"),
])
def test_settings_validation(feedbackd, body, field):
    r = feedbackd.patch("/v1/project", key="admin", json=body)
    assert r.status_code == 400, r.text
    assert (r.json()["error"]["code"], r.json()["error"]["field"]) == ("invalid_field", field)
