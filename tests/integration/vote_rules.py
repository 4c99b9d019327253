"""The vote semantics of docs/api.md, computed by the tests themselves: which of the events a
test posted count."""


def counting(events, retracted, erased_users=(), created=lambda ev: ev["created_at"]):
    """The latest event per (user, kind, message) — per unordered pair for comparisons — by
    created_at then arrival ("_arrival"), unless retracted; events without user each count
    unless retracted; erased users' events are gone."""
    latest, out = {}, []
    for ev in events:
        if ev.get("user") in erased_users:
            continue
        if ev.get("user") is None:
            if ev["id"] not in retracted:
                out.append(ev)
            continue
        if ev["kind"] == "comparison":
            slot = (ev["user"], "comparison", frozenset([ev["message_id"], ev["other_message_id"]]))
        else:
            slot = (ev["user"], ev["kind"], ev["message_id"])
        key = (created(ev), ev["_arrival"])
        if slot not in latest or key > latest[slot][0]:
            latest[slot] = (key, ev)
    out += [ev for _, ev in latest.values() if ev["id"] not in retracted]
    return out
