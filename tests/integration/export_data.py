"""export_data.py — hand-built conversations for the export tests (test_export_*.py) and the
records docs/export.md says they must give, written out by hand (never taken from the server).

Conversations (ids sort bytewise in this order):
  c-basic    system + user; Lyon (thumbs down), Paris (thumbs up); Marseille rated up by a
             second user who then retracted it -> unrated.
  c-cmp      four siblings; Red vs Blue: 3 votes Red, 1 vote Blue (v4 re-voted: first Red,
             then Blue — only the latest counts, so 3:1, agreement 0.75); Green vs Yellow:
             1:1 plus a both_bad vote -> tie; Red vs Green: 2:1 plus a tie vote -> 2/4 < 2/3,
             low_agreement.
  c-edit     an edit of "Old pond frog" (non-trivial) and a whitespace-only edit of a sibling.
  c-erase    thumbs by a user who is then erased -> nothing.
  c-invalid  a response whose parent is an assistant turn -> invalid_prompt.
  c-missing  two rated responses whose parent turn was never logged -> unknown_turn x2.
  c-multi    system, user, assistant, user; "hat" (poet-2) up, "dog" (poet-1) down.
  c-scale    scale ratings 5/5, 4/5, 2/5 (scores 1, 0.5, -0.5), created in March.
  c-tool     user, assistant, tool; "It is 20C and sunny." up, "It is cold." down.
Every other message has model "base". Events are created in January unless said otherwise.
"""

import hashlib
import json

SLUG = "test"
JAN = "2026-01-10T00:%02d:%02dZ"


def jan(i):
    return JAN % (i // 60, i % 60)


def msg(id, conv, parent, role, content, model=None):
    m = {"id": id, "conversation_id": conv, "parent_id": parent, "role": role, "content": content}
    if role == "assistant":
        m["model"] = model or "base"
    return m


MESSAGES = [
    msg("b-s", "c-basic", None, "system", "Be terse."),
    msg("b-u", "c-basic", "b-s", "user", "Capital of France?"),
    msg("b-lyon", "c-basic", "b-u", "assistant", "Lyon."),
    msg("b-paris", "c-basic", "b-u", "assistant", "Paris."),
    msg("b-mars", "c-basic", "b-u", "assistant", "Marseille."),
    msg("k-u", "c-cmp", None, "user", "Pick a color"),
    msg("k-red", "c-cmp", "k-u", "assistant", "Red"),
    msg("k-blue", "c-cmp", "k-u", "assistant", "Blue"),
    msg("k-green", "c-cmp", "k-u", "assistant", "Green"),
    msg("k-yellow", "c-cmp", "k-u", "assistant", "Yellow"),
    msg("d-u", "c-edit", None, "user", "Write a haiku"),
    msg("d-frog", "c-edit", "d-u", "assistant", "Old pond frog"),
    msg("d-leaves", "c-edit", "d-u", "assistant", "Leaves fall"),
    msg("x-u", "c-erase", None, "user", "Hi there"),
    msg("x-hello", "c-erase", "x-u", "assistant", "Hello!"),
    msg("x-away", "c-erase", "x-u", "assistant", "Go away."),
    msg("i-u", "c-invalid", None, "user", "Hi"),
    msg("i-a", "c-invalid", "i-u", "assistant", "Hello"),
    msg("i-again", "c-invalid", "i-a", "assistant", "Hello again"),
    msg("z-1", "c-missing", "z-never-logged", "assistant", "Orphan one"),
    msg("z-2", "c-missing", "z-never-logged", "assistant", "Orphan two"),
    msg("p-s", "c-multi", None, "system", "You are a poet."),
    msg("p-u1", "c-multi", "p-s", "user", "Hi"),
    msg("p-a1", "c-multi", "p-u1", "assistant", "Hello."),
    msg("p-u2", "c-multi", "p-a1", "user", "Rhyme with cat"),
    msg("p-hat", "c-multi", "p-u2", "assistant", "hat", model="poet-2"),
    msg("p-dog", "c-multi", "p-u2", "assistant", "dog", model="poet-1"),
    msg("s-u", "c-scale", None, "user", "Rate me"),
    msg("s-a", "c-scale", "s-u", "assistant", "A"),
    msg("s-b", "c-scale", "s-u", "assistant", "B"),
    msg("s-c", "c-scale", "s-u", "assistant", "C"),
    msg("t-u", "c-tool", None, "user", "Weather?"),
    msg("t-call", "c-tool", "t-u", "assistant", "Let me check."),
    msg("t-tool", "c-tool", "t-call", "tool", "20C and sunny"),
    msg("t-warm", "c-tool", "t-tool", "assistant", "It is 20C and sunny."),
    msg("t-cold", "c-tool", "t-tool", "assistant", "It is cold."),
]


def thumbs(id, m, v, user, t):
    return {"id": id, "kind": "rating", "message_id": m, "value": v, "user": user, "created_at": t}


def cmp(id, a, b, user, t, outcome="preferred"):
    return {"id": id, "kind": "comparison", "message_id": a, "other_message_id": b, "user": user,
            "outcome": outcome, "created_at": t}


EVENTS = [
    thumbs("e-b1", "b-lyon", -1, "ua", jan(1)),
    thumbs("e-b2", "b-paris", 1, "ua", jan(2)),
    thumbs("e-b3", "b-mars", 1, "ub", jan(3)),          # retracted below
    cmp("e-k1", "k-red", "k-blue", "v1", jan(10)),
    cmp("e-k2", "k-red", "k-blue", "v2", jan(11)),
    cmp("e-k3", "k-red", "k-blue", "v3", jan(12)),
    cmp("e-k4a", "k-red", "k-blue", "v4", jan(13)),     # v4's first vote ...
    cmp("e-k4b", "k-blue", "k-red", "v4", jan(14)),     # ... replaced by this one
    cmp("e-k5", "k-green", "k-yellow", "v1", jan(15)),
    cmp("e-k6", "k-yellow", "k-green", "v2", jan(16)),
    cmp("e-k7", "k-green", "k-yellow", "v9", jan(17), outcome="both_bad"),
    cmp("e-k8", "k-red", "k-green", "w1", jan(18)),
    cmp("e-k9", "k-green", "k-red", "w2", jan(19)),
    cmp("e-k10", "k-red", "k-green", "w3", jan(20)),
    cmp("e-k11", "k-red", "k-green", "w4", jan(21), outcome="tie"),
    {"id": "e-d1", "kind": "edit", "message_id": "d-frog", "user": "uc", "edited_content": "An old silent pond",
     "created_at": jan(30)},
    {"id": "e-d2", "kind": "edit", "message_id": "d-leaves", "user": "uc", "edited_content": "  Leaves \n fall ",
     "created_at": jan(31)},
    thumbs("e-x1", "x-hello", 1, "eraseme", jan(40)),
    thumbs("e-x2", "x-away", -1, "eraseme", jan(41)),
    thumbs("e-i1", "i-again", 1, "ud", jan(45)),
    thumbs("e-z1", "z-1", 1, "ue", jan(50)),
    thumbs("e-z2", "z-2", -1, "ue", jan(51)),
    thumbs("e-p1", "p-hat", 1, "uf", jan(55)),
    thumbs("e-p2", "p-dog", -1, "uf", jan(56)),
    {"id": "e-s1", "kind": "rating", "message_id": "s-a", "value": 5, "scale": 5, "user": "g1",
     "created_at": "2026-03-01T10:00:00Z"},
    {"id": "e-s2", "kind": "rating", "message_id": "s-b", "value": 4, "scale": 5, "user": "g2",
     "created_at": "2026-03-01T10:00:01Z"},
    {"id": "e-s3", "kind": "rating", "message_id": "s-c", "value": 2, "scale": 5, "user": "g3",
     "created_at": "2026-03-01T10:00:02Z"},
    thumbs("e-t1", "t-warm", 1, "uh", jan(58)),
    thumbs("e-t2", "t-cold", -1, "uh", jan(59)),
    {"id": "e-c1", "kind": "comment", "message_id": "b-lyon", "comment": "Wrong city", "created_at": jan(4)},
]
RETRACT = ["e-b3"]
ERASE = ["eraseme"]


def load(fd):
    """Post the dataset through the API as a chat backend and a widget would."""
    r = fd.post("/v1/messages", key="ingest", json={"messages": MESSAGES})
    assert r.status_code == 200, r.text
    assert all(x["status"] == "stored" for x in r.json()["results"]), r.text
    for ev in EVENTS:
        r = fd.post("/v1/feedback", key="ingest", json=ev)
        assert r.status_code == 201, (ev, r.text)
    for eid in RETRACT:
        assert fd.delete(f"/v1/feedback/{eid}", key="ingest").status_code == 200
    for user in ERASE:
        r = fd.delete(f"/v1/users/{user}", key="admin")
        assert r.status_code == 200, r.text


# ---- expected records, by hand ------------------------------------------------------------

def turn(role, content):
    return {"role": role, "content": content}


def A(content):
    return [turn("assistant", content)]


P_BASIC = [turn("system", "Be terse."), turn("user", "Capital of France?")]
P_CMP = [turn("user", "Pick a color")]
P_EDIT = [turn("user", "Write a haiku")]
P_MULTI = [turn("system", "You are a poet."), turn("user", "Hi"), turn("assistant", "Hello."),
           turn("user", "Rhyme with cat")]
P_SCALE = [turn("user", "Rate me")]
P_TOOL = [turn("user", "Weather?"), turn("assistant", "Let me check."), turn("tool", "20C and sunny")]

# (conversation, parent, prompt, chosen, rejected, origin)
TRL_PAIRS = [
    ("c-basic", "b-u", P_BASIC, "Paris.", "Lyon.", "ratings"),
    ("c-cmp", "k-u", P_CMP, "Red", "Blue", "comparison"),
    ("c-edit", "d-u", P_EDIT, "An old silent pond", "Old pond frog", "edit"),
    ("c-multi", "p-u2", P_MULTI, "hat", "dog", "ratings"),
    ("c-scale", "s-u", P_SCALE, "A", "C", "ratings"),
    ("c-scale", "s-u", P_SCALE, "B", "C", "ratings"),
    ("c-tool", "t-tool", P_TOOL, "It is 20C and sunny.", "It is cold.", "ratings"),
]
TRL = [{"prompt": p, "chosen": A(c), "rejected": A(r)} for (_, _, p, c, r, _) in TRL_PAIRS]

# (conversation, prompt, completion, label)
KTO_ROWS = [
    ("c-basic", P_BASIC, "Paris.", True), ("c-basic", P_BASIC, "Lyon.", False),
    ("c-cmp", P_CMP, "Green", False), ("c-cmp", P_CMP, "Yellow", False),
    ("c-edit", P_EDIT, "An old silent pond", True), ("c-edit", P_EDIT, "Old pond frog", False),
    ("c-multi", P_MULTI, "hat", True), ("c-multi", P_MULTI, "dog", False),
    ("c-scale", P_SCALE, "A", True), ("c-scale", P_SCALE, "B", True), ("c-scale", P_SCALE, "C", False),
    ("c-tool", P_TOOL, "It is 20C and sunny.", True), ("c-tool", P_TOOL, "It is cold.", False),
]
KTO = [{"prompt": p, "completion": A(c), "label": lab} for (_, p, c, lab) in KTO_ROWS]

SFT = [{"messages": P_BASIC + A("Paris.")}, {"messages": P_EDIT + A("An old silent pond")},
       {"messages": P_MULTI + A("hat")}, {"messages": P_SCALE + A("A")},
       {"messages": P_TOOL + A("It is 20C and sunny.")}]

TRL_SKIPPED = {"unknown_turn": 2, "trivial_edit": 1, "tie": 1, "low_agreement": 1, "invalid_prompt": 1,
               "duplicate": 0, "conflict": 0, "cap": 0, "not_single_turn": 0, "unsupported_role": 0,
               "no_consent": 0, "invalid_span": 0, "invalid_step": 0, "unlabelled": 0}
SKIP_KEYS = set(TRL_SKIPPED)


# ---- helpers ---------------------------------------------------------------------------------

def canonical(obj):
    """docs/export.md's canonical JSON (compact, keys sorted, UTF-8 kept)."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def sha_hex(obj):
    return hashlib.sha256(canonical(obj).encode("utf-8")).hexdigest()


def split_of(conversation_id, test_fraction=0.1, slug=SLUG):
    """docs/export.md "Split", written out independently."""
    h = hashlib.sha256(f"{slug}:{conversation_id}".encode("utf-8")).digest()
    bucket = int.from_bytes(h[:8], "big") / 2 ** 64
    return "test" if bucket < test_fraction else "train"


def parse_ndjson(body):
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    assert text == "" or text.endswith("\n"), "every record ends with a newline"
    return [json.loads(line) for line in text.splitlines()]


def without_meta(rec):
    return {k: v for k, v in rec.items() if k != "meta"}


def multiset(records):
    return sorted(canonical(without_meta(r)) for r in records)


def send_event(fd, events, ev, id, created_at, retract=False):
    """POST one event (None fields left out) as `id` at `created_at`, retract it if asked, and
    append it, with "retracted", to `events` (what the tests' models compute from)."""
    ev = dict(ev, id=id, created_at=created_at)
    ev = {k: v for k, v in ev.items() if v is not None}
    r = fd.post("/v1/feedback", key="ingest", json=ev)
    assert r.status_code == 201, (ev, r.text)
    if retract:
        assert fd.delete(f"/v1/feedback/{ev['id']}", key="ingest").status_code == 200
    ev["retracted"] = retract
    events.append(ev)
    return ev


def export(fd, key="export", **params):
    """GET /v1/export; returns (response, body bytes, records)."""
    r = fd.get("/v1/export", key=key, params=params, timeout=60)
    body = r.content
    recs = parse_ndjson(body) if r.status_code == 200 else None
    return r, body, recs
