"""A full export of one pass reads its feedback query on a second connection (db/export_db.h
"PARALLEL"). That connection is a speed-up, not a need: when the server refuses it (at its
connection limit), the export reads through cursors on its first connection and its body is
the same (docs/operations.md, sizing notes).

The refusal comes from a small proxy in front of the cluster's unix socket that answers the
second connection of each export the way PostgreSQL answers one over max_connections."""

import json
import os
import socket
import struct
import tempfile
import threading

import pytest

from ingest_helpers import new_id

TOO_MANY = b"".join([b"SFATAL\0", b"VFATAL\0", b"C53300\0", b"Msorry, too many clients already\0", b"\0"])


def startup_packet(conn):
    """The client's startup packet (length-prefixed), or None if the client went away."""
    head = b""
    while len(head) < 4:
        more = conn.recv(4 - len(head))
        if not more:
            return None
        head += more
    length = struct.unpack("!I", head)[0]
    body = b""
    while len(body) < length - 4:
        more = conn.recv(length - 4 - len(body))
        if not more:
            return None
        body += more
    return head + body


def application_name(packet):
    fields = packet[8:].split(b"\0")
    for k, v in zip(fields[::2], fields[1::2]):
        if k == b"application_name":
            return v.decode()
    return ""


class ExportConnectionProxy:
    """A unix-socket proxy to the cluster. While `refuse_second` is set, every second connection
    named `feedbackd fd-export` is refused with SQLSTATE 53300 (the second of each export)."""

    def __init__(self, cluster):
        self.dir = tempfile.mkdtemp(prefix="fdproxy-")
        self.target = os.path.join(cluster.host, f".s.PGSQL.{cluster.port}")
        self.port = cluster.port
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(os.path.join(self.dir, f".s.PGSQL.{self.port}"))
        self.listener.listen(64)
        self.refuse_second = False
        self.export_connections = 0
        self.refused = 0
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def conninfo(self, dbname, user):
        return f"host={self.dir} port={self.port} dbname={dbname} user={user}"

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(client,), daemon=True).start()

    def serve(self, client):
        packet = startup_packet(client)
        if packet is None:
            client.close()
            return
        if application_name(packet) == "feedbackd fd-export":
            with self.lock:
                self.export_connections += 1
                refuse = self.refuse_second and self.export_connections % 2 == 0
                self.refused += refuse
            if refuse:
                client.sendall(b"E" + struct.pack("!I", 4 + len(TOO_MANY)) + TOO_MANY)
                client.close()
                return
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.connect(self.target)
        server.sendall(packet)
        threading.Thread(target=pump, args=(server, client), daemon=True).start()
        pump(client, server)

    def close(self):
        self.listener.close()


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


@pytest.fixture
def proxied_feedbackd(pg, feedbackd_factory):
    proxy = ExportConnectionProxy(pg)
    fd = feedbackd_factory(database_url=proxy.conninfo(pg.create_database("fdproxy"), pg.user))
    yield fd, proxy
    proxy.close()


def seed(fd, conversations=12):
    """Rated answers and a comparison per conversation: records in kto, trl and sft."""
    for i in range(conversations):
        conv, u, a, b = new_id("c"), new_id("m"), new_id("m"), new_id("m")
        msgs = [{"id": u, "conversation_id": conv, "parent_id": None, "role": "user", "content": f"question {i}"},
                {"id": a, "conversation_id": conv, "parent_id": u, "role": "assistant", "content": f"answer A{i}",
                 "model": "m1"},
                {"id": b, "conversation_id": conv, "parent_id": u, "role": "assistant", "content": f"answer B{i}",
                 "model": "m2"}]
        assert fd.post("/v1/messages", key="ingest", json={"messages": msgs}).status_code == 200
        events = [{"id": new_id(), "kind": "rating", "message_id": a, "value": 1, "user": f"u{i}"},
                  {"id": new_id(), "kind": "rating", "message_id": b, "value": -1, "user": f"u{i}"},
                  {"id": new_id(), "kind": "comparison", "message_id": a, "other_message_id": b,
                   "preferred": "a", "user": f"v{i}"}]
        r = fd.post("/v1/feedback/batch", key="ingest", json={"events": events})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("fmt", ["kto", "trl", "sft"])
def test_export_without_its_second_connection_reads_on_one(proxied_feedbackd, fmt):
    fd, proxy = proxied_feedbackd
    seed(fd)
    whole = fd.get(f"/v1/export?format={fmt}", key="export", timeout=60)
    assert whole.status_code == 200, whole.text
    assert proxy.export_connections == 2, "a full export of one pass opens two connections"
    assert len(whole.content.splitlines()) >= 12
    proxy.refuse_second = True
    one = fd.get(f"/v1/export?format={fmt}", key="export", timeout=60)
    assert proxy.refused == 1, "the proxy refused the export's second connection"
    assert one.status_code == 200, one.text
    assert one.content == whole.content
    assert "export reads on one connection" in fd.log(100000)


# Every character the COPY text format escapes (tab, newline, carriage return, backslash,
# backspace, form feed, vertical tab), its NULL marker spelled as text, other control
# characters and non-ASCII: a streamed export reads its rows as `COPY ... TO STDOUT` and
# unescapes them (db/export_db.c), the cursor path gets them from libpq as they are.
ODD = ["tab\there", "new\nline", "cr\r\nlf", "back\\slash", "\\N", "\\", "\\\\N\\t", "\b\f\v",
       "\x01\x1f\x7f", "ünïcødé ✓ 𝄞", "trailing tab\t", "\tleading", "", "ends in backslash\\"]


def test_odd_characters_stream_as_they_were_stored(proxied_feedbackd):
    fd, proxy = proxied_feedbackd
    expected = []
    for i, text in enumerate(ODD):
        conv, u, a, b = new_id("c"), new_id("m"), new_id("m"), new_id("m")
        question, better, worse = f"q{i} {text}", f"a{i} {text}", f"b{i}{text}"
        msgs = [{"id": u, "conversation_id": conv, "parent_id": None, "role": "user", "content": question},
                {"id": a, "conversation_id": conv, "parent_id": u, "role": "assistant", "content": better,
                 "model": f"m\t{text}"},
                {"id": b, "conversation_id": conv, "parent_id": u, "role": "assistant", "content": worse}]
        assert fd.post("/v1/messages", key="ingest", json={"messages": msgs}).status_code == 200
        user = f"u\\{i}\t{text}"
        events = [{"id": new_id(), "kind": "rating", "message_id": a, "value": 1, "user": user},
                  {"id": new_id(), "kind": "rating", "message_id": b, "value": -1, "user": user}]
        r = fd.post("/v1/feedback/batch", key="ingest", json={"events": events})
        assert r.status_code == 200, r.text
        assert all(x["status"] == "stored" for x in r.json()["results"]), r.text
        expected.append({"prompt": [{"role": "user", "content": question}],
                         "chosen": [{"role": "assistant", "content": better}],
                         "rejected": [{"role": "assistant", "content": worse}]})
    streamed = fd.get("/v1/export?format=trl", key="export", timeout=60)
    assert streamed.status_code == 200, streamed.text
    assert proxy.export_connections == 2, "read by the streamed path"
    recs = [json.loads(line) for line in streamed.content.splitlines()]
    key = lambda x: json.dumps(x, sort_keys=True)
    assert sorted(map(key, recs)) == sorted(map(key, expected))
    meta = fd.get("/v1/export?format=trl&include_meta=true", key="export", timeout=60)
    assert meta.status_code == 200, meta.text
    models = {r["meta"]["models"]["chosen"] for r in map(json.loads, meta.content.splitlines())}
    assert models == {f"m\t{text}" for text in ODD}
    proxy.refuse_second = True
    cursors = fd.get("/v1/export?format=trl", key="export", timeout=60)
    assert proxy.refused == 1 and cursors.status_code == 200, cursors.text
    assert cursors.content == streamed.content
