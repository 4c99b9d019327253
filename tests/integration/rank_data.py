"""The events behind test_leaderboard.py and test_agreement.py, and what counts of them.

A seeded world of conversations whose assistant answers come from four models (plus answers
without a model, and messages never logged), with comparison and rating events from named
raters and anonymous ones, re-votes, retractions and created_at spread over ten days. The
events go in through the API (vote_rules.post_events, retract); `counting()` applies the vote semantics of docs/api.md (latest
event per user and slot by created_at then arrival; retracted latest = no vote; events
without a user each count) independently of the server.
"""

import random
from datetime import datetime, timedelta, timezone

from vote_rules import counting

UTC = timezone.utc
BASE = datetime(2026, 5, 4, tzinfo=UTC)
MODELS = ["alpha-1", "beta-2", "gamma-3", "delta-4"]
STRENGTH = {"alpha-1": 1.0, "beta-2": 0.4, "gamma-3": 0.0, "delta-4": -0.7}


def at(hours):
    return (BASE + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


class World:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.model_of = {}   # logged message id -> model (None: logged without a model)
        self.events = []     # as posted, with "_arrival"
        self.retracted = set()

    def messages(self, conversations=12):
        out = []
        for c in range(conversations):
            conv = f"c{c}"
            out.append({"id": f"{conv}-p", "conversation_id": conv, "role": "user", "content": f"question {c}"})
            for m in MODELS:
                out.append({"id": f"{conv}-{m}", "conversation_id": conv, "parent_id": f"{conv}-p",
                            "role": "assistant", "content": f"{m} says {c}", "model": m})
            out.append({"id": f"{conv}-anon", "conversation_id": conv, "parent_id": f"{conv}-p",
                        "role": "assistant", "content": f"nobody says {c}"})
            out.append({"id": f"{conv}-twin", "conversation_id": conv, "parent_id": f"{conv}-p",
                        "role": "assistant", "content": f"alpha again {c}", "model": "alpha-1"})
        for m in out:
            if m["role"] == "assistant":
                self.model_of[m["id"]] = m.get("model")
        return out

    def add(self, ev):
        ev = dict(ev, _arrival=len(self.events))
        self.events.append(ev)

    def counting(self):
        return counting(self.events, self.retracted)


def post_messages(fd, msgs):
    r = fd.post("/v1/messages", key="ingest", json={"messages": msgs})
    assert r.status_code == 200 and all(x["status"] == "stored" for x in r.json()["results"]), r.text
