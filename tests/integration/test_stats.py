"""GET /v1/stats (docs/api.md "Stats" and the vote semantics of "Feedback events").

Events go in through the API only (messages, single events, batches, retractions, an
erasure); every number /v1/stats answers is compared with what this file computes itself
from the events it posted: the latest-vote rule per (user, message, kind) — per unordered
pair for comparisons — by created_at then arrival, retractions, events without user,
thumbs and scale ratings around the midpoint, the Wilson interval by its textbook formula,
hour/day/week buckets (weeks start Monday 00:00 UTC), groups by model/tag/kind/emoji/span_label,
top tags; reactions per name (latest per rater, message and name) with the positive-reaction
rate over the default set's values, signals per name (every one counts) and their rates over
the logged assistant messages of the window, spans per label (latest per rater, message and
(start, end, label)).
"""

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from vote_rules import counting, post_events, retract

UTC = timezone.utc
BASE = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)  # a Wednesday: the events cross two week boundaries
Z = 1.96


def iso(dt):
    s = dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        s += ".%06d" % dt.microsecond
    return s + "Z"


def parse(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


# ---- the model this test keeps of what it posted ---------------------------------------

MODELS = {"a1": "chat-v7", "a2": "chat-v8", "a3": "chat-v7", "a4": None, "b1": "chat-v8", "b2": "chat-mini"}
MODELS_Q = {}  # the answers without feedback, filled by the fixture
# "late1" gets its message (model chat-late) only after its feedback; "ghost" never does.

# The default reaction set (docs/api.md "Reactions"): name -> (emoji, value).
REACTIONS = {"love": ("\u2764\ufe0f", 1), "like": ("\U0001f44d", 1), "laugh": ("\U0001f602", 0.5), "wow": ("\U0001f62e", 0),
             "sad": ("\U0001f622", -0.5), "angry": ("\U0001f621", -1), "dislike": ("\U0001f44e", -1)}
BY_EMOJI = {e: n for n, (e, _) in REACTIONS.items()}
SIGNALS = ["copy", "share", "regenerate", "continue", "abandon", "dwell", "retry",
           "detected_praise", "detected_complaint", "detected_correction"]
SPAN_LABELS = ["incorrect", "irrelevant", "incomplete", "unsafe", "well_said"]


class World:
    def __init__(self):
        self.events = []       # dicts as posted, plus "_arrival" and "_created" (datetime)
        self.retracted = set()
        self.erased_users = set()
        self.models = dict(MODELS)
        self.assistant = {}    # logged assistant message id -> (model, created_at datetime)

    def add(self, ev):
        ev = dict(ev)
        if ev["kind"] == "reaction":
            ev["_reaction"] = BY_EMOJI.get(ev["emoji"], ev["emoji"])
        ev["_arrival"] = len(self.events)
        ev["_created"] = parse(ev["created_at"])
        self.events.append(ev)
        return ev

    def counting(self):
        """The events that count (vote_rules.py): latest of their slot (created_at, then
        arrival) and not retracted; events without user each on their own."""
        return counting(self.events, self.retracted, self.erased_users, created=lambda ev: ev["_created"])

    @staticmethod
    def vote(ev):
        if ev["kind"] != "rating":
            return 0
        scale, value = ev.get("scale", 2), ev["value"]
        if scale == 2:
            return 1 if value == 1 else -1
        mid2 = scale + 1  # twice the midpoint
        return 1 if 2 * value > mid2 else (-1 if 2 * value < mid2 else 0)


def wilson(up, down):
    n = up + down
    if n == 0:
        return None, None
    phat = up / n
    denom = 1 + Z * Z / n
    centre = (phat + Z * Z / (2 * n)) / denom
    margin = (Z / denom) * math.sqrt(phat * (1 - phat) / n + Z * Z / (4 * n * n))
    return phat, [max(0.0, centre - margin), min(1.0, centre + margin)]


def bucket_start(dt, bucket):
    dt = dt.astimezone(UTC)
    if bucket == "hour":
        return dt.replace(minute=0, second=0, microsecond=0)
    day = dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "day":
        return day
    return day - timedelta(days=day.weekday())  # Monday


def names(evs, messages, spans=True):
    """The reaction, signal and span figures of one scope (totals, a bucket, a group) from its
    counting events and its number of logged assistant messages."""
    reactions = {n: sum(e["kind"] == "reaction" and e["_reaction"] == n for e in evs) for n in REACTIONS}
    positive = sum(c for n, c in reactions.items() if REACTIONS[n][1] > 0)
    negative = sum(c for n, c in reactions.items() if REACTIONS[n][1] < 0)
    rate, ci = wilson(positive, negative)
    signals = {n: sum(e["kind"] == "signal" and e["signal"] == n for e in evs) for n in SIGNALS}
    out = {"reactions": reactions, "reaction_positive_rate": rate, "reaction_positive_rate_ci95": ci,
           "signals": signals, "signal_rates": {n: c / messages for n, c in signals.items()} if messages else None}
    if spans:
        labels = {n: 0 for n in SPAN_LABELS}
        for e in evs:
            if e["kind"] == "span":
                labels[e["label"]] = labels.get(e["label"], 0) + 1
        out["spans"] = labels
    return out


def expected(world, since, until, bucket, group_by=None, model=None):
    evs = [e for e in world.counting() if since <= e["_created"] < until]
    msgs = {m: v for m, v in world.assistant.items() if since <= v[1] < until}
    if model is not None:  # the model filter: events on messages of that model only
        evs = [e for e in evs if world.models.get(e["message_id"]) == model]
        msgs = {m: v for m, v in msgs.items() if v[0] == model}
    ups = [e for e in evs if world.vote(e) > 0]
    downs = [e for e in evs if world.vote(e) < 0]
    rate, ci = wilson(len(ups), len(downs))
    totals = {
        "events": len(evs),
        "ratings": sum(e["kind"] == "rating" for e in evs),
        "up": len(ups), "down": len(downs),
        "comments": sum(bool(e.get("comment")) for e in evs),
        "edits": sum(e["kind"] == "edit" for e in evs),
        "comparisons": sum(e["kind"] == "comparison" for e in evs),
        "positive_rate": rate, "positive_rate_ci95": ci,
        "assistant_messages": len(msgs), **names(evs, len(msgs)),
    }
    step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[bucket]
    series = []
    t = bucket_start(since, bucket)
    while t < until:
        inb = [e for e in evs if bucket_start(e["_created"], bucket) == t]
        nm = sum(bucket_start(v[1], bucket) == t for v in msgs.values())
        series.append({"t": iso(t), "events": len(inb),
                       "up": sum(world.vote(e) > 0 for e in inb), "down": sum(world.vote(e) < 0 for e in inb),
                       "edits": sum(e["kind"] == "edit" for e in inb),
                       "comments": sum(bool(e.get("comment")) for e in inb),
                       "assistant_messages": nm, **names(inb, nm, spans=False)})
        t += step
    groups = []
    if group_by:
        keyed = {}
        for e in evs:
            if group_by == "model":
                keys = [world.models.get(e["message_id"])]
            elif group_by == "kind":
                keys = [e["kind"]]
            elif group_by == "emoji":
                keys = [e["_reaction"]] if e["kind"] == "reaction" else []
            elif group_by == "span_label":
                keys = [e["label"]] if e["kind"] == "span" else []
            else:
                keys = list(dict.fromkeys(e.get("tags", [])))
            for k in keys:
                keyed.setdefault(k, []).append(e)
        per_model = {}
        for m, _ in msgs.values():
            per_model[m] = per_model.get(m, 0) + 1
        if group_by == "model":  # a model with assistant messages but no feedback is a group too
            for m in per_model:
                keyed.setdefault(m, [])
        # documented order: by key (bytes), the null key last
        for k in sorted(keyed, key=lambda k: (k is None, (k or "").encode())):
            g = keyed[k]
            up = sum(world.vote(e) > 0 for e in g)
            down = sum(world.vote(e) < 0 for e in g)
            r, c = wilson(up, down)
            grp = {"key": k, "events": len(g), "ratings": sum(e["kind"] == "rating" for e in g), "up": up,
                   "down": down, "positive_rate": r, "ci95": c}
            if group_by == "tag":  # tag counters have no names: these are null
                grp.update({"assistant_messages": None, "reactions": None, "reaction_positive_rate": None,
                            "reaction_positive_rate_ci95": None, "signals": None, "signal_rates": None,
                            "spans": None})
            else:
                nm = per_model.get(k, 0) if group_by == "model" else None
                grp.update({"assistant_messages": nm, **names(g, nm)})
            groups.append(grp)
    tagcount = {}
    for e in evs:
        for tag in dict.fromkeys(e.get("tags", [])):
            tagcount[tag] = tagcount.get(tag, 0) + 1
    top = sorted(tagcount.items(), key=lambda kv: (-kv[1], kv[0].encode()))[:10]
    return {"since": iso(since), "until": iso(until), "bucket": bucket, "totals": totals, "series": series,
            "groups": groups, "top_tags": [{"tag": t, "count": n} for t, n in top]}


def assert_same(got, want, path="$"):
    """Deep equality; floats (rates, Wilson bounds) to 1e-9."""
    if isinstance(want, float):
        assert isinstance(got, (int, float)) and not isinstance(got, bool), f"{path}: {got!r} is not a number"
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12), f"{path}: got {got!r}, want {want!r}"
    elif isinstance(want, dict):
        assert isinstance(got, dict) and set(got) == set(want), f"{path}: keys {sorted(got) if isinstance(got, dict) else got!r} != {sorted(want)}"
        for k in want:
            assert_same(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), f"{path}: length {len(got) if isinstance(got, list) else got!r} != {len(want)}: {got!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same(g, w, f"{path}[{i}]")
    else:
        assert got == want and type(got) is type(want), f"{path}: got {got!r}, want {want!r}"


# ---- posting ------------------------------------------------------------------------

def at(days, hours=0, minutes=0, seconds=0):
    return iso(BASE + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds))


def post_one(fd, world, ev):
    r = fd.post("/v1/feedback", key="ingest", json=ev)
    assert r.status_code == 201, r.text
    world.add(ev)


def handmade():
    """Each case names the rule it exercises."""
    return [
        # re-vote: u1 thumbs down then up on a1 -> only the up counts
        {"id": "h-revote-1", "kind": "rating", "message_id": "a1", "user": "u1", "value": -1, "created_at": at(0, 9)},
        {"id": "h-revote-2", "kind": "rating", "message_id": "a1", "user": "u1", "value": 1, "created_at": at(1, 10),
         "tags": ["helpful"]},
        # late arrival with an older created_at: does not replace the later vote
        {"id": "h-late-old", "kind": "rating", "message_id": "a1", "user": "u1", "value": -1, "created_at": at(0, 8),
         "tags": ["inaccurate"]},
        # same created_at: the one that arrived later counts
        {"id": "h-tie-1", "kind": "rating", "message_id": "a2", "user": "u2", "value": 1, "created_at": at(2, 14, 30)},
        {"id": "h-tie-2", "kind": "rating", "message_id": "a2", "user": "u2", "value": -1, "created_at": at(2, 14, 30),
         "tags": ["too_long"]},
        # the latest is retracted: the rater has no vote there, the earlier one does not come back
        {"id": "h-retr-1", "kind": "rating", "message_id": "a3", "user": "u3", "value": 1, "created_at": at(3, 1)},
        {"id": "h-retr-2", "kind": "rating", "message_id": "a3", "user": "u3", "value": -1, "created_at": at(3, 2)},
        # an older event of a retracted slot that arrives afterwards still does not count
        # (posted after the retraction below)
        # retracting a non-latest changes nothing
        {"id": "h-retr-old-1", "kind": "rating", "message_id": "b1", "user": "u3", "value": -1, "created_at": at(4, 5)},
        {"id": "h-retr-old-2", "kind": "rating", "message_id": "b1", "user": "u3", "value": 1, "created_at": at(4, 6)},
        # scale ratings: midpoint (neither), above, below
        {"id": "h-s5-mid", "kind": "rating", "message_id": "a1", "user": "u4", "value": 3, "scale": 5, "created_at": at(5, 3)},
        {"id": "h-s4-down", "kind": "rating", "message_id": "a2", "user": "u4", "value": 2, "scale": 4, "created_at": at(5, 4)},
        {"id": "h-s4-up", "kind": "rating", "message_id": "a3", "user": "u4", "value": 3, "scale": 4, "created_at": at(5, 5)},
        {"id": "h-s10-down", "kind": "rating", "message_id": "b1", "user": "u4", "value": 5, "scale": 10, "created_at": at(5, 6)},
        {"id": "h-s10-up", "kind": "rating", "message_id": "b2", "user": "u4", "value": 6, "scale": 10, "created_at": at(5, 7)},
        {"id": "h-s3-mid", "kind": "rating", "message_id": "a4", "user": "u4", "value": 2, "scale": 3, "created_at": at(5, 8)},
        {"id": "h-thumb2", "kind": "rating", "message_id": "a4", "user": "u5", "value": 1, "scale": 2, "created_at": at(5, 9)},
        # comparisons: re-voted with the pair in swapped order -> one slot, the later counts
        {"id": "h-cmp-1", "kind": "comparison", "message_id": "a1", "other_message_id": "a2", "user": "u1",
         "created_at": at(6, 11)},
        {"id": "h-cmp-2", "kind": "comparison", "message_id": "a2", "other_message_id": "a1", "user": "u1",
         "created_at": at(6, 12), "comment": "second thoughts", "tags": ["helpful"]},
        # another pair of the same rater is another slot
        {"id": "h-cmp-3", "kind": "comparison", "message_id": "a3", "other_message_id": "a2", "user": "u1",
         "outcome": "tie", "created_at": at(6, 13)},
        # events without user: each counts on its own
        {"id": "h-anon-1", "kind": "rating", "message_id": "a1", "value": 1, "created_at": at(7, 1)},
        {"id": "h-anon-2", "kind": "rating", "message_id": "a1", "value": 1, "created_at": at(7, 1)},
        {"id": "h-anon-3", "kind": "rating", "message_id": "a1", "value": -1, "created_at": at(7, 2), "tags": ["rude"]},
        # comments: empty comment on a rating is not a comment; comment events; tags on any kind
        {"id": "h-cm-empty", "kind": "rating", "message_id": "b2", "user": "u6", "value": -1, "comment": "",
         "created_at": at(8, 0, 30)},
        {"id": "h-cm-rating", "kind": "rating", "message_id": "b1", "user": "u6", "value": -1, "comment": "meh",
         "created_at": at(8, 0, 45), "tags": ["inaccurate", "too_long"]},
        {"id": "h-cm-1", "kind": "comment", "message_id": "a1", "user": "u6", "comment": "nice", "created_at": at(8, 1),
         "tags": ["helpful"]},
        {"id": "h-cm-2", "kind": "comment", "message_id": "a1", "user": "u6", "comment": "nicer", "created_at": at(8, 2)},
        # edits: re-edited -> one counts
        {"id": "h-ed-1", "kind": "edit", "message_id": "a2", "user": "u6", "edited_content": "Paris", "created_at": at(8, 3)},
        {"id": "h-ed-2", "kind": "edit", "message_id": "a2", "user": "u6", "edited_content": "Paris.", "created_at": at(8, 4),
         "tags": ["inaccurate"]},
        # unknown message (model null) and a message that arrives later (model chat-late)
        {"id": "h-ghost", "kind": "rating", "message_id": "ghost", "user": "u7", "value": -1, "created_at": at(9, 1)},
        {"id": "h-late-msg", "kind": "rating", "message_id": "late1", "user": "u7", "value": 1, "created_at": at(9, 2),
         "tags": ["helpful"]},
        # a rater who will be erased
        {"id": "h-erase-1", "kind": "rating", "message_id": "a1", "user": "gone", "value": -1, "created_at": at(2, 3),
         "tags": ["unsafe"]},
        {"id": "h-erase-2", "kind": "comment", "message_id": "a2", "user": "gone", "comment": "x", "created_at": at(2, 4)},
        # reactions: re-reacted with the same name (emoji character, then name) -> one counts;
        # a second name of the same rater on the same message counts too
        {"id": "h-re-1", "kind": "reaction", "message_id": "a1", "user": "u1", "emoji": "\U0001f44d", "created_at": at(1, 3)},
        {"id": "h-re-2", "kind": "reaction", "message_id": "a1", "user": "u1", "emoji": "like", "created_at": at(1, 4)},
        {"id": "h-re-3", "kind": "reaction", "message_id": "a1", "user": "u1", "emoji": "laugh", "created_at": at(1, 5),
         "comment": "ha", "tags": ["funny"]},
        {"id": "h-re-wow", "kind": "reaction", "message_id": "b1", "user": "u2", "emoji": "wow", "created_at": at(2, 6)},
        {"id": "h-re-sad", "kind": "reaction", "message_id": "b1", "user": "u3", "emoji": "sad", "created_at": at(2, 7)},
        {"id": "h-re-retr", "kind": "reaction", "message_id": "b2", "user": "u3", "emoji": "love", "created_at": at(2, 8)},
        # signals: all count, also twice the same of one rater; dwell with its value
        {"id": "h-sig-1", "kind": "signal", "message_id": "a2", "user": "u1", "signal": "copy", "created_at": at(3, 3)},
        {"id": "h-sig-2", "kind": "signal", "message_id": "a2", "user": "u1", "signal": "copy", "created_at": at(3, 3)},
        {"id": "h-sig-3", "kind": "signal", "message_id": "a2", "user": "u1", "signal": "dwell", "value": 3000,
         "created_at": at(3, 4)},
        {"id": "h-sig-retr", "kind": "signal", "message_id": "a2", "user": "u1", "signal": "regenerate",
         "created_at": at(3, 5)},
        # spans: re-labelled the same passage -> one counts; another label of it is another slot
        {"id": "h-sp-1", "kind": "span", "message_id": "a3", "user": "u2", "start": 0, "end": 6, "label": "incorrect",
         "created_at": at(4, 3)},
        {"id": "h-sp-2", "kind": "span", "message_id": "a3", "user": "u2", "start": 0, "end": 6, "label": "incorrect",
         "created_at": at(4, 4), "quote": "answer"},
        {"id": "h-sp-3", "kind": "span", "message_id": "a3", "user": "u2", "start": 0, "end": 6, "label": "well_said",
         "created_at": at(4, 5)},
        # created_at with an offset, at a bucket edge: 2026-03-06T00:00:00Z
        {"id": "h-offset", "kind": "rating", "message_id": "b2", "user": "u8", "value": 1,
         "created_at": "2026-03-06T02:00:00+02:00"},
    ]


def generated(rng):
    """Volume with natural re-votes: few users and messages, many hours over 10 days."""
    users = ["g1", "g2", "g3", "g4", None]
    msgs = ["a1", "a2", "a3", "a4", "b1", "b2", "ghost"]
    tags = ["inaccurate", "too_long", "helpful", "rude", "formatting", "outdated", "off_topic", "unsafe",
            "concise", "creative", "wrong_language", "other"]
    out = []
    for i in range(260):
        kind = rng.choice(["rating"] * 6 + ["comment", "edit", "comparison"] + ["reaction"] * 3 + ["signal"] * 2
                          + ["span"] * 2)
        ev = {"id": f"g-{i}", "kind": kind, "message_id": rng.choice(msgs),
              "created_at": at(rng.randrange(10), rng.randrange(24), rng.randrange(60), rng.randrange(60))}
        u = rng.choice(users)
        if u:
            ev["user"] = u
        if kind == "rating":
            if rng.random() < 0.7:
                ev["value"] = rng.choice([-1, 1])
            else:
                ev["scale"] = rng.choice([3, 4, 5, 7, 10])
                ev["value"] = rng.randint(1, ev["scale"])
        elif kind == "comment":
            ev["comment"] = f"c{i}"
        elif kind == "edit":
            ev["edited_content"] = f"edited {i}"
        elif kind == "reaction":  # by name or by its emoji character
            name = rng.choice(list(REACTIONS))
            ev["emoji"] = REACTIONS[name][0] if rng.random() < 0.3 else name
        elif kind == "signal":
            ev["signal"] = rng.choice(SIGNALS[:7])
            if ev["signal"] == "dwell":
                ev["value"] = rng.choice([0, 1500, 250.5])
        elif kind == "span":  # every answer is "answer <id>", at least 9 code points
            ev["start"] = rng.randrange(3)
            ev["end"] = ev["start"] + rng.randint(1, 3)
            ev["label"] = rng.choice(SPAN_LABELS)
        else:
            other = rng.choice([m for m in msgs if m != ev["message_id"]])
            ev["other_message_id"] = other
        if rng.random() < 0.4:
            ev["tags"] = rng.sample(tags, rng.randint(1, 3))
        if kind != "comment" and rng.random() < 0.2:
            ev["comment"] = rng.choice(["", "why", "ok"])
        out.append(ev)
    return out


@pytest.fixture(scope="module")
def world(feedbackd, pg):
    fd, w = feedbackd, World()
    # every message with its created_at: assistant messages count in assistant_messages
    made = {"a1": at(0, 1, 5), "a2": at(1, 2, 30), "a3": at(2), "a4": at(3, 4), "b1": at(4, 23, 59, 59), "b2": at(5, 12)}
    msgs = [{"id": "p1", "conversation_id": "c1", "role": "user", "content": "Capital of France?", "user": "u1",
             "created_at": at(0, 1)}]
    msgs += [{"id": m, "conversation_id": "c1", "parent_id": "p1", "role": "assistant", "content": f"answer {m}",
              "created_at": made[m], **({"model": MODELS[m]} if MODELS[m] else {})} for m in ("a1", "a2", "a3", "a4")]
    msgs += [{"id": "p2", "conversation_id": "c2", "role": "user", "content": "2+2?", "created_at": at(4, 1)}]
    msgs += [{"id": m, "conversation_id": "c2", "parent_id": "p2", "role": "assistant", "content": f"answer {m}",
              "model": MODELS[m], "created_at": made[m]} for m in ("b1", "b2")]
    # answers nobody gave feedback on (one of a model without any feedback), and one of
    # yesterday for the default window
    mrng = random.Random(7)
    for i in range(14):
        model = mrng.choice(["chat-v7", "chat-v8", "chat-quiet", None])
        made[f"q{i}"] = at(mrng.randrange(10), mrng.randrange(24), mrng.randrange(60), mrng.randrange(60))
        msgs.append({"id": f"q{i}", "conversation_id": "c4", "role": "assistant", "content": "quiet",
                     "created_at": made[f"q{i}"], **({"model": model} if model else {})})
        MODELS_Q[f"q{i}"] = model
    made["qnow"] = iso(datetime.now(UTC).replace(microsecond=0) - timedelta(days=1))
    MODELS_Q["qnow"] = "chat-v7"
    msgs.append({"id": "qnow", "conversation_id": "c5", "role": "assistant", "content": "recent", "model": "chat-v7",
                 "created_at": made["qnow"]})
    r = fd.post("/v1/messages", key="ingest", json={"messages": msgs})
    assert r.status_code == 200 and all(x["status"] == "stored" for x in r.json()["results"]), r.text
    w.models.update(MODELS_Q)
    for m in msgs:
        if m["role"] == "assistant":
            w.assistant[m["id"]] = (m.get("model"), parse(m["created_at"]))

    for ev in handmade():
        post_one(fd, w, ev)
    rng = random.Random(20261126)
    gen = generated(rng)
    post_events(fd, w, gen, chunk=40)

    retract(fd, w, "h-retr-2")
    retract(fd, w, "h-retr-old-1")
    post_one(fd, w, {"id": "h-retr-older", "kind": "rating", "message_id": "a3", "user": "u3", "value": 1,
                     "created_at": at(3, 0)})
    # retract then vote again later: the new vote counts
    post_one(fd, w, {"id": "h-rv-1", "kind": "rating", "message_id": "b2", "user": "u9", "value": -1, "created_at": at(4, 1)})
    retract(fd, w, "h-rv-1")
    post_one(fd, w, {"id": "h-rv-2", "kind": "rating", "message_id": "b2", "user": "u9", "value": 1, "created_at": at(4, 2)})
    for eid in ("g-3", "g-17", "g-40", "g-77", "g-101", "g-150", "h-anon-2", "h-re-retr", "h-sig-retr", "h-sp-3"):
        retract(fd, w, eid)
    # a reaction again after the retraction of its slot's latest: counts
    post_one(fd, w, {"id": "h-re-again", "kind": "reaction", "message_id": "b2", "user": "u3", "emoji": "\U0001f621",
                     "created_at": at(2, 9)})

    r = fd.post("/v1/messages", key="ingest", json={"messages": [
        {"id": "late1", "conversation_id": "c3", "role": "assistant", "content": "late", "model": "chat-late",
         "created_at": at(9, 3)}]})
    assert r.status_code == 200, r.text
    w.models["late1"] = "chat-late"
    w.assistant["late1"] = ("chat-late", parse(at(9, 3)))

    # detected signals are stored by the server itself (no user); written here as it writes them
    db = fd.database_url.split("dbname=")[1].split()[0]
    for i, (sig, mid, when) in enumerate([("detected_complaint", "a1", at(6, 2)), ("detected_praise", "b1", at(6, 3)),
                                          ("detected_complaint", "ghost", at(7, 5))]):
        pg.sql("INSERT INTO feedback (project_id, id, kind, message_id, signal, created_at, content_sha256, metadata)"
               " SELECT id, %s, 'signal', %s, %s, %s, '\\x00', '{}' FROM projects WHERE slug = %s",
               (f"det-{i}", mid, sig, when, fd.project), dbname=db)
        w.add({"id": f"det-{i}", "kind": "signal", "message_id": mid, "signal": sig, "created_at": when})

    r = fd.delete("/v1/users/gone", key="admin")
    assert r.status_code == 200 and r.json()["feedback_deleted"] == 2, r.text
    w.erased_users.add("gone")

    # a few events at "now", for the default window
    now = datetime.now(UTC).replace(microsecond=0)
    post_events(fd, w, [
        {"id": "n-1", "kind": "rating", "message_id": "a1", "user": "n1", "value": 1, "created_at": iso(now - timedelta(days=2))},
        {"id": "n-2", "kind": "rating", "message_id": "a2", "value": -1, "created_at": iso(now - timedelta(hours=5)),
         "tags": ["rude"]},
        {"id": "n-3", "kind": "comment", "message_id": "a2", "user": "n1", "comment": "hm", "created_at": iso(now - timedelta(days=40))},
    ])
    return w


def stats(fd, **params):
    r = fd.get("/v1/stats", key="read", params=params)
    assert r.status_code == 200, r.text
    return r.json()


ALL = (BASE - timedelta(days=1), BASE + timedelta(days=11))


def test_the_model_has_every_case(world):
    """Guards the test itself: the fixture produced re-votes, retractions, all kinds."""
    c = world.counting()
    assert len(world.events) > len(c) + 20
    assert {e["kind"] for e in c} == {"rating", "comment", "edit", "comparison", "reaction", "signal", "span"}
    assert {"h-re-2", "h-re-3", "h-re-again", "h-sig-1", "h-sig-2", "h-sig-3", "h-sp-2", "det-0"} <= {e["id"] for e in c}
    assert not {e["id"] for e in c} & {"h-re-1", "h-re-retr", "h-sig-retr", "h-sp-1", "h-sp-3"}
    # every reaction name, signal name and span label occurs among the counting events
    assert {e["_reaction"] for e in c if e["kind"] == "reaction"} == set(REACTIONS)
    assert {e["signal"] for e in c if e["kind"] == "signal"} == set(SIGNALS) - {"detected_correction"}
    assert {e["label"] for e in c if e["kind"] == "span"} == set(SPAN_LABELS)
    assert any(world.vote(e) == 0 for e in c if e["kind"] == "rating")
    ids = {e["id"] for e in c}
    assert {"h-revote-2", "h-tie-2", "h-rv-2", "h-cmp-2", "h-anon-1", "h-anon-3"} <= ids
    assert not ids & {"h-revote-1", "h-late-old", "h-tie-1", "h-retr-1", "h-retr-2", "h-retr-older", "h-cmp-1",
                      "h-anon-2", "h-erase-1", "h-rv-1"}


@pytest.mark.parametrize("bucket", ["hour", "day", "week"])
@pytest.mark.parametrize("group_by", [None, "model", "tag", "kind", "emoji", "span_label"])
def test_whole_range(feedbackd, world, bucket, group_by):
    since, until = ALL
    params = {"since": iso(since), "until": iso(until), "bucket": bucket}
    if group_by:
        params["group_by"] = group_by
    assert_same(stats(feedbackd, **params), expected(world, since, until, bucket, group_by))


@pytest.mark.parametrize("bucket", ["hour", "day", "week"])
@pytest.mark.parametrize("group_by", [None, "model", "tag", "kind", "emoji", "span_label"])
def test_window_with_partial_hours(feedbackd, world, bucket, group_by):
    """Edges inside hours: the counts come partly from whole hours, partly from the edges."""
    since = BASE + timedelta(days=1, hours=10, minutes=30, seconds=7)
    until = BASE + timedelta(days=8, hours=1, minutes=15, seconds=30, microseconds=500000)
    params = {"since": iso(since), "until": iso(until), "bucket": bucket}
    if group_by:
        params["group_by"] = group_by
    assert_same(stats(feedbackd, **params), expected(world, since, until, bucket, group_by))


@pytest.mark.parametrize("bucket", ["hour", "day"])
@pytest.mark.parametrize("group_by", [None, "model", "tag", "emoji"])
def test_model_filter(feedbackd, world, bucket, group_by):
    """model=M (the dashboard's filter): every figure over the events on M's messages only,
    for whole hours/days and for partial hours at the edges."""
    models = sorted({m for m in world.models.values() if m})
    assert len(models) >= 2
    windows = [ALL, (BASE + timedelta(days=1, hours=10, minutes=30, seconds=7),
                     BASE + timedelta(days=8, hours=1, minutes=15, seconds=30, microseconds=500000))]
    for model in models[:2] + ["no-such-model"]:
        for since, until in windows:
            params = {"since": iso(since), "until": iso(until), "bucket": bucket, "model": model}
            if group_by:
                params["group_by"] = group_by
            want = expected(world, since, until, bucket, group_by, model)
            assert_same(stats(feedbackd, **params), want)
    # the filter narrows: some model has fewer events than all models together
    since, until = ALL
    everything = expected(world, since, until, "day")["totals"]["events"]
    assert any(expected(world, since, until, "day", model=m)["totals"]["events"] < everything for m in models)


def test_window_inside_one_hour(feedbackd, world):
    since = BASE + timedelta(days=8, hours=0, minutes=40)
    until = BASE + timedelta(days=8, hours=0, minutes=50)
    got = stats(feedbackd, since=iso(since), until=iso(until), bucket="hour", group_by="tag")
    want = expected(world, since, until, "hour", "tag")
    assert want["totals"]["events"] == 1  # h-cm-rating at 00:45
    assert_same(got, want)


def test_until_is_exclusive_since_inclusive(feedbackd, world):
    # h-offset is at 2026-03-06T00:00:00Z exactly
    edge = datetime(2026, 3, 6, tzinfo=UTC)
    a = stats(feedbackd, since=iso(edge - timedelta(hours=1)), until=iso(edge), bucket="hour")
    b = stats(feedbackd, since=iso(edge), until=iso(edge + timedelta(hours=1)), bucket="hour")
    assert_same(a, expected(world, edge - timedelta(hours=1), edge, "hour"))
    assert_same(b, expected(world, edge, edge + timedelta(hours=1), "hour"))
    assert b["totals"]["events"] >= 1


def test_defaults(feedbackd, world):
    before = datetime.now(UTC)
    got = stats(feedbackd)
    after = datetime.now(UTC)
    since, until = parse(got["since"]), parse(got["until"])
    assert before - timedelta(seconds=1) <= until <= after + timedelta(seconds=1)
    assert until - since == timedelta(days=30)
    assert got["bucket"] == "day" and got["groups"] == []
    want = expected(world, since, until, "day")
    assert want["totals"]["events"] == 2  # n-1 and n-2; n-3 is 40 days old
    assert_same(got, want)


def test_since_and_until_are_echoed_in_utc(feedbackd, world):
    got = stats(feedbackd, since="2026-03-05T10:30:00+02:00", until="2026-03-06T01:00:00.250-05:00")
    assert got["since"] == "2026-03-05T08:30:00Z"
    assert got["until"] == "2026-03-06T06:00:00.250000Z"
    assert_same(got, expected(world, datetime(2026, 3, 5, 8, 30, tzinfo=UTC),
                              datetime(2026, 3, 6, 6, 0, 0, 250000, tzinfo=UTC), "day"))


def test_empty_window_has_zero_buckets_and_null_rates(feedbackd, world):
    got = stats(feedbackd, since="2020-01-06T00:00:00Z", until="2020-01-20T00:00:00Z", bucket="week", group_by="model")
    zero = {"reactions": dict.fromkeys(REACTIONS, 0), "reaction_positive_rate": None,
            "reaction_positive_rate_ci95": None, "signals": dict.fromkeys(SIGNALS, 0), "signal_rates": None,
            "assistant_messages": 0}
    assert got["totals"] == {"events": 0, "ratings": 0, "up": 0, "down": 0, "comments": 0, "edits": 0,
                             "comparisons": 0, "positive_rate": None, "positive_rate_ci95": None,
                             "spans": dict.fromkeys(SPAN_LABELS, 0), **zero}
    assert got["series"] == [{"t": "2020-01-06T00:00:00Z", "events": 0, "up": 0, "down": 0, "edits": 0, "comments": 0,
                              **zero},
                             {"t": "2020-01-13T00:00:00Z", "events": 0, "up": 0, "down": 0, "edits": 0, "comments": 0,
                              **zero}]
    assert got["groups"] == [] and got["top_tags"] == []


def test_week_buckets_start_on_monday(feedbackd, world):
    # 2026-03-04 is a Wednesday: its week starts Monday 2026-03-02
    got = stats(feedbackd, since="2026-03-04T12:00:00Z", until="2026-03-10T00:00:00Z", bucket="week")
    assert [s["t"] for s in got["series"]] == ["2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"]


def test_group_by_model_keys(feedbackd, world):
    since, until = ALL
    got = stats(feedbackd, since=iso(since), until=iso(until), group_by="model")
    keys = [g["key"] for g in got["groups"]]
    assert "chat-late" in keys      # the message arrived after its feedback
    assert keys[-1] is None         # feedback on an unknown message, listed last
    assert keys[:-1] == sorted(keys[:-1])


# ---- parameters and scope -----------------------------------------------------------------

@pytest.mark.parametrize("params,field", [
    ({"since": "yesterday"}, "since"),
    ({"since": "2026-03-01T00:00:00"}, "since"),             # no zone
    ({"since": ""}, "since"),
    ({"until": "2026-03-01"}, "until"),
    ({"until": "2026-02-30T00:00:00Z"}, "until"),
    ({"since": "2026-03-02T00:00:00Z", "until": "2026-03-02T00:00:00Z"}, "since"),   # empty window
    ({"since": "2026-03-03T00:00:00Z", "until": "2026-03-02T00:00:00Z"}, "since"),   # reversed
    ({"bucket": "month"}, "bucket"),
    ({"bucket": ""}, "bucket"),
    ({"bucket": "DAY"}, "bucket"),
    ({"group_by": "user"}, "group_by"),
    ({"group_by": "reaction"}, "group_by"),
    ({"group_by": "Emoji"}, "group_by"),
    ({"group_by": ""}, "group_by"),
    ({"model": ""}, "model"),
    ({"model": "m" * 129}, "model"),
    ({"since": "2024-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z", "bucket": "hour"}, "bucket"),
    ({"since": "0001-01-01T00:00:00Z", "until": "9999-12-31T23:59:59Z", "bucket": "week"}, "bucket"),
])
def test_bad_parameters(feedbackd, params, field):
    r = feedbackd.get("/v1/stats", key="read", params=params)
    assert r.status_code == 400, r.text
    assert r.json() == {"error": {"code": "invalid_parameter", "message": r.json()["error"]["message"], "field": field}}
    assert r.json()["error"]["message"]


def test_lone_until_moves_the_default_since(feedbackd):
    r = feedbackd.get("/v1/stats", key="read", params={"until": "2000-01-01T00:00:00Z"})
    assert r.status_code == 200, r.text
    assert r.json()["since"] == "1999-12-02T00:00:00Z" and len(r.json()["series"]) == 30


def test_bucket_cap_allows_a_year_of_hours(feedbackd):
    r = feedbackd.get("/v1/stats", key="read",
                      params={"since": "2025-01-01T00:00:00Z", "until": "2026-01-01T00:00:00Z", "bucket": "hour"})
    assert r.status_code == 200, r.text
    assert len(r.json()["series"]) == 365 * 24


@pytest.mark.parametrize("key,status,code", [
    ("ingest", 403, "forbidden"), ("export", 403, "forbidden"), (None, 401, "unauthorized"),
    ("not-a-key", 401, "unauthorized"),
])
def test_scope(feedbackd, key, status, code):
    r = feedbackd.get("/v1/stats", key=key)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


def test_admin_and_read_keys_may_read(feedbackd):
    assert feedbackd.get("/v1/stats", key="admin").status_code == 200
    assert feedbackd.get("/v1/stats", key="read").status_code == 200


def test_other_project_sees_nothing(feedbackd, world):
    # a second project with its own read key: none of this module's events are its
    feedbackd.cli("projects", "create", "other-stats")
    other = feedbackd.cli("keys", "create", "--project", "other-stats", "--scopes", "read").stdout.strip()
    since, until = ALL
    r = feedbackd.get("/v1/stats", key=other, params={"since": iso(since), "until": iso(until)})
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["events"] == 0 and r.json()["top_tags"] == []


def test_reactions_and_spans_follow_the_current_settings(feedbackd_factory):
    """A reaction counts with the value its name has in the project's *current* set; a name
    no longer in the set stops counting in reactions and group_by=emoji (it stays an event).
    Span labels: every current label, plus a label events still carry."""
    fd = feedbackd_factory()
    day = "2026-05-01T10:00:00Z"
    evs = [{"id": f"r{i}", "kind": "reaction", "message_id": f"m{i % 3}", "user": f"u{i}", "emoji": name,
            "created_at": day} for i, name in enumerate(["love", "love", "wow", "sad", "dislike", "laugh"])]
    evs += [{"id": "s1", "kind": "span", "message_id": "m9", "user": "u1", "start": 0, "end": 2, "label": "unsafe",
             "created_at": day}]
    r = fd.post("/v1/feedback/batch", key="ingest", json={"events": evs})
    assert r.status_code == 200, r.text
    window = {"since": "2026-05-01T00:00:00Z", "until": "2026-05-02T00:00:00Z"}

    def check(values, labels):
        got = stats(fd, **window)
        counts = {}
        for e in evs:
            if e["kind"] == "reaction":
                counts[e["emoji"]] = counts.get(e["emoji"], 0) + 1
        want = {n: counts.get(n, 0) for n in values}
        pos = sum(c for n, c in want.items() if values[n] > 0)
        neg = sum(c for n, c in want.items() if values[n] < 0)
        rate, ci = wilson(pos, neg)
        assert_same(got["totals"]["reactions"], want)
        assert list(got["totals"]["reactions"]) == list(values)  # in the set's order
        assert_same(got["totals"]["reaction_positive_rate"], rate)
        assert_same(got["totals"]["reaction_positive_rate_ci95"], ci)
        assert got["totals"]["events"] == len(evs)  # a name out of the set is still an event
        assert_same(got["totals"]["spans"], labels)
        groups = stats(fd, group_by="emoji", **window)["groups"]
        assert [(g["key"], g["events"]) for g in groups] == sorted((n, c) for n, c in want.items() if c)
        return got

    check({n: v for n, (_, v) in REACTIONS.items()}, {**dict.fromkeys(SPAN_LABELS, 0), "unsafe": 1})
    # a new set: wow now positive, sad gone, love negative, a new name without reactions
    new = {"wow": 1, "love": -0.5, "dislike": -1, "laugh": 0, "meh": -0.2}
    r = fd.patch("/v1/project", key="admin", json={
        "reactions": [{"name": n, "emoji": f"x{n}", "value": v} for n, v in new.items()],
        "span_labels": [{"name": "wrong", "value": -1}, {"name": "great", "value": 1}]})
    assert r.status_code == 200, r.text
    got = check(new, {"wrong": 0, "great": 0, "unsafe": 1})
    assert got["totals"]["reactions"]["love"] == 2 and "sad" not in got["totals"]["reactions"]
    assert got["totals"]["reaction_positive_rate"] == 1 / 4  # wow over wow, love x2, dislike


def test_detected_signals_from_logged_user_turns(feedbackd_factory):
    """Feedback written into the conversation (docs/detection.md) reaches the stats: unmistakable
    praise, complaint and correction follow-ups are counted under their detected_* names on the
    answer's model at the turn's created_at, logging a turn again counts it once, and the rates
    are over the window's assistant messages; /metrics counts them by name too."""
    from test_metrics import scrape
    fd = feedbackd_factory()
    turns = [("Perfect, thank you!", "detected_praise"), ("That's wrong.", "detected_complaint"),
             ("No, it's Canberra.", "detected_correction"), ("That's wrong.", "detected_complaint"),
             ("And what about Brazil?", None)]
    msgs = []
    for i, (text, _) in enumerate(turns):
        msgs += [{"id": f"q{i}", "conversation_id": f"c{i}", "role": "user", "content": "Capital of Australia?",
                  "created_at": "2026-06-01T09:00:00Z"},
                 {"id": f"a{i}", "conversation_id": f"c{i}", "parent_id": f"q{i}", "role": "assistant",
                  "content": "Sydney.", "model": "m-det", "created_at": "2026-06-01T09:00:01Z"},
                 {"id": f"u{i}", "conversation_id": f"c{i}", "parent_id": f"a{i}", "role": "user", "content": text,
                  "created_at": f"2026-06-01T1{i}:00:00Z"}]
    for _ in range(2):  # the second time: duplicates, nothing new
        r = fd.post("/v1/messages", key="ingest", json={"messages": msgs})
        assert r.status_code == 200, r.text
    want = dict.fromkeys(SIGNALS, 0)
    for _, sig in turns:
        if sig:
            want[sig] += 1
    got = stats(fd, since="2026-06-01T00:00:00Z", until="2026-06-02T00:00:00Z", bucket="hour", group_by="model")
    assert got["totals"]["signals"] == want
    assert got["totals"]["assistant_messages"] == len(turns)
    assert_same(got["totals"]["signal_rates"], {n: c / len(turns) for n, c in want.items()})
    assert [(g["key"], g["signals"]) for g in got["groups"]] == [("m-det", want)]
    # each in the hour of its user turn
    for i, (_, sig) in enumerate(turns):
        point = got["series"][10 + i]
        assert point["t"] == f"2026-06-01T1{i}:00:00Z"
        assert {n: c for n, c in point["signals"].items() if c} == ({sig: 1} if sig else {})
    by_name = {l["name"]: v for _, l, v in scrape(fd)["feedbackd_signals_stored_total"]["samples"]}
    for name in ("detected_praise", "detected_complaint", "detected_correction"):
        assert by_name[name] == want[name]
