#!/usr/bin/python3
"""attack.py — the hostile client of bench/hostile: a holder of project A's public ingest key
(and, for the export item, of A's export key) sending the worst inputs of the hostile-input
issue at full speed, each in its own thread, until a deadline. Loopback only (the URL must
name 127.0.0.0/8 or ::1), bounded in time, standard library only.

    attack.py URL INGEST_KEY EXPORT_KEY SECONDS [FIRST_ADDRESS]
    ATTACKS=edits,context attack.py ...    # only these attacks (default: all)

Each attack comes from an address of its own, 127.0.0.N with N = FIRST_ADDRESS (default 2)
+ its number (the victim is 127.0.0.1): an attacker with several addresses, so each attack
meets the server's per-address connection limit alone and the defences behind it are
measured too.

Attacks (each in its own thread):
  edits      a stored 256 KiB message, then batches of 1000 small edits pointing at it
  context    single events whose inline `context` holds as many turns as a 1 MiB body takes
  slowhead   64 connections that send one header line every 2 s and never finish the head
  getbody    64 connections that announce a 1 MiB - 1 body on GET /healthz and trickle it
  exports    20 exports of project A opened and never read
Prints one line per attack with what it sent and how the server answered.
"""
import http.client
import ipaddress
import json
import os
import random
import socket
import sys
import threading
import time
import urllib.parse

URL, INGEST_KEY, EXPORT_KEY, SECONDS = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
FIRST = int(sys.argv[5]) if len(sys.argv) > 5 else 2
ATTACKS = ("edits", "context", "slowhead", "getbody", "exports")
SOURCES = {name: (f"127.0.0.{FIRST + i}", 0) for i, name in enumerate(ATTACKS)}
u = urllib.parse.urlsplit(URL)
HOST, PORT = u.hostname, u.port
if not (ipaddress.ip_address(socket.gethostbyname(HOST)).is_loopback and 2 <= FIRST <= 250):
    sys.exit("attack.py: loopback targets only")
STARTED = time.monotonic()
DEADLINE = STARTED + SECONDS
RUN = f"{int(time.time())}{random.randrange(10**6)}"
report = {}
lock = threading.Lock()


def tally(name, key, n=1):
    with lock:
        report.setdefault(name, {}).setdefault(key, 0)
        report[name][key] += n


def post(conn, path, body, key=INGEST_KEY):
    conn.request("POST", path, body=body, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    return r.status


def connect(name):
    return http.client.HTTPConnection(HOST, PORT, timeout=30, source_address=SOURCES[name])


def template(text):
    """make_body(i) for keep_posting: text with every @I@ replaced by i, as bytes."""
    body = text.encode()
    return lambda i: body.replace(b"@I@", str(i).encode())


def keep_posting(name, path, make_body):
    conn = connect(name)
    i = 0
    while time.monotonic() < DEADLINE:
        i += 1
        try:
            tally(name, str(post(conn, path, make_body(i))))
        except (OSError, http.client.HTTPException) as e:
            tally(name, type(e).__name__)
            conn.close()
            conn = connect(name)
            time.sleep(0.05)
    conn.close()


def attack_edits():
    big = "".join(random.choice("abcdefghij klmnopqrstuvwxyz.") for _ in range(256 * 1024))
    conn = connect("edits")
    msgs = {"messages": [
        {"id": f"big-{RUN}-u", "conversation_id": f"c-{RUN}", "role": "user", "content": "write a lot"},
        {"id": f"big-{RUN}", "conversation_id": f"c-{RUN}", "parent_id": f"big-{RUN}-u", "role": "assistant",
         "content": big, "model": "attack"}]}
    tally("edits", f"original:{post(conn, '/v1/messages', json.dumps(msgs))}")
    conn.close()

    # the body of request i is a template with i spliced in: the same bytes as a json.dumps per
    # request, at a fraction of this client's CPU (which shares the cores with the server here)
    batch = template(json.dumps({"events": [
        {"id": f"ed-{RUN}-@I@-{j}", "kind": "edit", "message_id": f"big-{RUN}", "user": f"u{j}",
         "edited_content": f"short @I@ {j}"} for j in range(1000)]}))
    keep_posting("edits", "/v1/feedback/batch", batch)


def attack_context():
    turn = {"role": "user", "content": "x"}

    def event(i, n_turns):
        return json.dumps({"id": f"cx-{RUN}-{i}", "kind": "rating", "message_id": f"cxm-{RUN}-{i}", "value": 1,
                           "message": {"conversation_id": f"cxc-{RUN}-{i}", "content": "a"},
                           "context": [turn] * n_turns}, separators=(",", ":"))
    # as many turns as fit a body of 1 MiB (the default limit)
    per_turn = len(event(0, 2)) - len(event(0, 1))
    n_turns = (1024 * 1024 - len(event(0, 0)) - 64) // per_turn
    keep_posting("context", "/v1/feedback", template(event("@I@", n_turns)))


def hold(name, n, first, line, every):
    """n sockets that send `first`, then `line` every `every` seconds until the deadline."""
    socks = []
    for _ in range(n):
        try:
            s = socket.create_connection((HOST, PORT), timeout=5, source_address=SOURCES[name])
            s.sendall(first)
            socks.append(s)
        except OSError as e:
            tally(name, f"connect:{type(e).__name__}")
    tally(name, "opened", len(socks))
    while time.monotonic() < DEADLINE and socks:
        time.sleep(min(every, max(0.0, DEADLINE - time.monotonic())))
        for s in list(socks):
            try:
                s.sendall(line)
            except OSError:
                tally(name, "cut by server")
                socks.remove(s)
                s.close()
                try:  # reconnect: an attacker keeps the pressure on
                    s = socket.create_connection((HOST, PORT), timeout=5, source_address=SOURCES[name])
                    s.sendall(first)
                    socks.append(s)
                    tally(name, "reopened")
                except OSError:
                    pass
    for s in socks:
        s.close()


def attack_slowhead():
    hold("slowhead", 64, b"GET /healthz HTTP/1.1\r\nHost: x\r\n", b"X-Slow: 1\r\n", 2.0)


def attack_getbody():
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1048575\r\n\r\n"
    hold("getbody", 64, head + b"{" * 65536, b" " * 65536, 0.5)


def attack_exports():
    conns = []
    for i in range(20):
        try:
            c = socket.create_connection((HOST, PORT), timeout=5, source_address=SOURCES["exports"])
            c.sendall((f"GET /v1/export?format=trl&include_meta=true HTTP/1.1\r\nHost: x\r\n"
                       f"Authorization: Bearer {EXPORT_KEY}\r\n\r\n").encode())
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            conns.append(c)
            tally("exports", "opened")
        except OSError as e:
            tally("exports", type(e).__name__)
    while time.monotonic() < DEADLINE:
        time.sleep(0.2)
    statuses = []
    for c in conns:
        try:
            c.settimeout(0.2)
            statuses.append(c.recv(64).split(b" ")[1].decode())
        except (OSError, IndexError):
            statuses.append("none")
        c.close()
    for s in statuses:
        tally("exports", f"status:{s}")


CHOSEN = os.environ.get("ATTACKS", ",".join(ATTACKS)).split(",")
threads = [threading.Thread(target=globals()["attack_" + name], daemon=True) for name in ATTACKS if name in CHOSEN]
for t in threads:
    t.start()
for t in threads:
    t.join(timeout=max(0.0, DEADLINE - time.monotonic()) + 40)
for name in ATTACKS:
    print(f"ATTACK {name}: " + " ".join(f"{k}={v}" for k, v in sorted(report.get(name, {}).items())))
# the load generator's own cost: on a small machine it shares the cores with the server and the
# victim's client, so a reader can tell its CPU from the server's
cpu = os.times()
wall = time.monotonic() - STARTED
print(f"ATTACK client CPU: {cpu.user + cpu.system:.1f} s (user {cpu.user:.1f}, system {cpu.system:.1f}) over "
      f"{wall:.1f} s wall = {(cpu.user + cpu.system) / wall:.2f} cores")
