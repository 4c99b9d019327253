"""export_signals_model.py — an independent Python model of docs/export.md's rules for
reactions, signals, format=reward and consent ("Reactions and signals", "Consent and
licence"), for test_export_reactions.py and test_export_consent.py. It works from what the
tests sent (never from the server's answers) and covers the data those tests build: groups of
at most 3 siblings (the cap of 4 rated pairs never binds), edits and comparisons only on
messages without ratings or reactions (no rated pair conflicts with them), one comparison vote
per pair."""

from collections import defaultdict

import export_data as D

DEFAULT_SET = [("love", 1.0), ("like", 1.0), ("laugh", 0.5), ("wow", 0.0), ("sad", -0.5), ("angry", -1.0),
               ("dislike", -1.0)]
SIGN = {"copy": 1, "share": 1, "continue": 1, "detected_praise": 1, "regenerate": -1, "abandon": -1, "retry": -1,
        "detected_complaint": -1, "detected_correction": -1, "dwell": 0}
TOL = 1e-9


def rating_score(ev):
    scale = ev.get("scale", 2)
    if scale == 2:
        return float(ev["value"])
    return 2.0 * (ev["value"] - 1) / (scale - 1) - 1.0


def counting(events):
    """docs/export.md "Which feedback counts" + signals.md: the latest event per slot counts
    (a retracted latest: nothing); reactions add their name to the slot; signals and events
    without a user each count on their own. `events` in created_at order, each with
    "retracted"."""
    latest, out = {}, []
    for ev in events:
        if ev["kind"] == "signal" or ev.get("user") is None:
            if not ev["retracted"]:
                out.append(ev)
            continue
        if ev["kind"] == "comparison":
            slot = (ev["user"], "comparison", tuple(sorted((ev["message_id"], ev["other_message_id"]))))
        else:
            slot = (ev["user"], ev["kind"], ev["message_id"], ev.get("emoji"))
        latest[slot] = ev
    out += [ev for ev in latest.values() if not ev["retracted"]]
    order = {id(ev): i for i, ev in enumerate(events)}
    return sorted(out, key=lambda ev: (ev["created_at"], order[id(ev)]))


class Model:
    """messages: id -> {conv, parent, role, content, model}; events: sent events (dicts with
    "id", "kind", "created_at", "retracted", ...); rset: [(name, value)] — the current set;
    consent(user) -> bool (user None: the default)."""

    def __init__(self, messages, events, rset, consent, slug=D.SLUG):
        self.msgs, self.events, self.rset, self.consent, self.slug = messages, events, rset, consent, slug
        self.values = dict(rset)

    # ---- prompts and groups -----------------------------------------------------------------
    def prompt(self, parent):
        """(status, turns): ok / unknown_turn / invalid_prompt (docs/export.md)."""
        chain, cur = [], parent
        while cur is not None:
            if cur not in self.msgs:
                return "unknown_turn", None
            chain.append(self.msgs[cur])
            cur = self.msgs[cur]["parent"]
        chain.reverse()
        if not chain or chain[-1]["role"] not in ("user", "tool"):
            return "invalid_prompt", None
        return "ok", [{"role": m["role"], "content": m["content"]} for m in chain]

    def groups(self):
        g = defaultdict(list)
        for mid, m in self.msgs.items():
            if m["role"] == "assistant":
                g[(m["conv"], m["parent"])].append(mid)
        return g

    # ---- one group -----------------------------------------------------------------------------
    def names(self, ev, mid):
        return ev["message_id"] == mid or (ev["kind"] == "comparison" and ev.get("other_message_id") == mid)

    def derive(self, fmt, conv, parent, members, evs, reactions, signals, min_margin=1.0):
        """Candidates of one group from its counting events: dicts {skip, rec (None when
        skipped), ev (evidence events), models, origin, label?}. Records as rendered."""
        use_r = reactions or fmt == "reward"
        status, prompt = self.prompt(parent)
        out = []
        if status != "ok":
            for mid in members:
                named = [e for e in evs if self.names(e, mid)]
                if named:
                    out.append({"skip": status, "ev": named, "models": [self.msgs[mid]["model"]]})
            return out
        scored = {}
        for mid in members:
            s = [(e, rating_score(e)) for e in evs if e["message_id"] == mid and e["kind"] == "rating"]
            if use_r:
                s += [(e, self.values[e["emoji"]]) for e in evs
                      if e["message_id"] == mid and e["kind"] == "reaction" and e["emoji"] in self.values]
            if s:
                scored[mid] = s
        score = {mid: sum(v for _, v in s) / len(s) for mid, s in scored.items()}

        def origin(mid):
            return "reaction" if all(e["kind"] == "reaction" for e, _ in scored[mid]) else "ratings"

        def explicit(mid):
            for e in evs:
                if not self.names(e, mid):
                    continue
                if e["kind"] in ("rating", "edit", "comparison"):
                    return True
                if e["kind"] == "reaction" and e["emoji"] in self.values:
                    return True
            return False

        def A(text):
            return [{"role": "assistant", "content": text}]

        def model(mid):
            return self.msgs[mid]["model"]

        if fmt == "trl":
            for e in evs:
                if e["kind"] == "edit" and e["message_id"] in members:
                    m = e["message_id"]
                    out.append({"skip": None, "rec": {"prompt": prompt, "chosen": A(e["edited_content"]),
                                                      "rejected": A(self.msgs[m]["content"])},
                                "ev": [e], "models": [model(m)], "origin": "edit"})
            for e in evs:
                if e["kind"] == "comparison" and e["message_id"] in members and e["other_message_id"] in members:
                    w, l = e["message_id"], e["other_message_id"]
                    out.append({"skip": None, "rec": {"prompt": prompt, "chosen": A(self.msgs[w]["content"]),
                                                      "rejected": A(self.msgs[l]["content"])},
                                "ev": [e], "models": [model(w), model(l)], "origin": "comparison"})
            ranked = sorted(scored, key=lambda mid: -score[mid])  # stable: ties keep the member order
            pairs = []
            for i, a in enumerate(ranked):
                for j in range(i + 1, len(ranked)):
                    b = ranked[j]
                    m = score[a] - score[b]
                    if m > TOL and m >= min_margin - TOL:
                        pairs.append((i, -round(m, 9), j, a, b))
            for *_, a, b in sorted(pairs):
                out.append({"skip": None, "rec": {"prompt": prompt, "chosen": A(self.msgs[a]["content"]),
                                                  "rejected": A(self.msgs[b]["content"])},
                            "ev": [e for e, _ in scored[a]] + [e for e, _ in scored[b]],
                            "models": [model(a), model(b)], "origin": "ratings"})
            return out
        if fmt == "kto":
            for e in evs:
                if e["kind"] == "edit" and e["message_id"] in members:
                    mid = e["message_id"]
                    for t, lab in ((e["edited_content"], True), (self.msgs[mid]["content"], False)):
                        out.append({"skip": None, "rec": {"prompt": prompt, "completion": A(t), "label": lab},
                                    "ev": [e], "models": [model(mid)], "origin": "edit"})
        for mid in members:
            text = self.msgs[mid]["content"]
            if mid in scored and (fmt == "reward" or abs(score[mid]) > TOL):
                ev = [e for e, _ in scored[mid]]
                if fmt == "kto":
                    rec = {"prompt": prompt, "completion": A(text), "label": score[mid] > 0}
                else:
                    counts = {n: sum(1 for e in ev if e["kind"] == "reaction" and e["emoji"] == n)
                              for n, _ in self.rset}
                    rec = {"prompt": prompt, "completion": A(text), "reward": score[mid], "n": len(ev),
                           "reactions": counts}
                out.append({"skip": None, "rec": rec, "ev": ev, "models": [model(mid)], "origin": origin(mid)})
        for mid in members:
            text = self.msgs[mid]["content"]
            if signals and not explicit(mid):
                sig = [e for e in evs if e["kind"] == "signal" and e["message_id"] == mid]
                if not sig:
                    continue
                total = sum(SIGN[e["signal"]] for e in sig)
                n = sum(1 for e in sig if e["signal"] != "dwell")
                c = {"ev": sig, "models": [model(mid)], "origin": "signal", "skip": None}
                if fmt == "kto":
                    if total == 0:
                        c["skip"] = "tie"
                    else:
                        c["rec"] = {"prompt": prompt, "completion": A(text), "label": total > 0}
                else:
                    if n == 0:
                        c["skip"] = "tie"
                    else:
                        c["rec"] = {"prompt": prompt, "completion": A(text), "reward": total / n, "n": n,
                                    "reactions": {name: 0 for name, _ in self.rset}}
                out.append(c)
        return out

    # ---- the export -------------------------------------------------------------------------
    def export(self, fmt, reactions=False, signals=False, since=None, model=None, split="all", only_groups=None):
        """(records in emission order as (record, conv, parent, cand), skipped counters)."""
        kinds = {"rating", "comment", "edit", "comparison"}
        if reactions or signals or fmt == "reward":
            kinds.add("reaction")
        if signals:
            kinds.add("signal")
        live = counting([e for e in self.events if e["kind"] in kinds])
        skipped = defaultdict(int)
        recs, seen = [], set()

        def passes(c):
            if model and model not in c["models"]:
                return False
            return since is None or any(e["created_at"] >= since for e in c["ev"])

        def key(rec):
            return D.canonical({"prompt": rec["prompt"], "completion": rec["completion"]}) if fmt == "reward" \
                else D.canonical(rec)

        by_group = self.groups()
        for (conv, parent) in sorted(by_group, key=lambda k: (k[0].encode(), (k[1] or "").encode() if k[1] else b"")):
            members = by_group[(conv, parent)]
            evs = [e for e in live if any(self.names(e, m) for m in members)
                   and (e["kind"] != "comparison" or (e["other_message_id"] in self.msgs
                                                       and e["message_id"] in self.msgs))]
            if not evs:
                continue
            if only_groups is not None and (conv, parent) not in only_groups:
                continue
            sel = split == "all" or D.split_of(conv, slug=self.slug) == split
            ok = [e for e in evs if self.consent(e.get("user"))]
            if len(ok) < len(evs):
                for c in self.derive(fmt, conv, parent, members, evs, reactions, signals):
                    if all(not self.consent(e.get("user")) for e in c["ev"]) and passes(c) and sel:
                        skipped["no_consent"] += 1
            for c in self.derive(fmt, conv, parent, members, ok, reactions, signals):
                if not passes(c):
                    continue
                if c["skip"]:
                    if sel:
                        skipped[c["skip"]] += 1
                    continue
                k = key(c["rec"])
                if k in seen:
                    if sel:
                        skipped["duplicate"] += 1
                    continue
                seen.add(k)
                if sel:
                    recs.append((c["rec"], conv, parent, c))
        return recs, skipped
