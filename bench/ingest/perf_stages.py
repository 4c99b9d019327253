#!/usr/bin/env python3
"""perf_stages.py — feedbackd's CPU per request by stage, from a perf recording.

    perf record -e cpu-clock -F 999 --call-graph dwarf,16384 -p <feedbackd pid> -o perf.data -- sleep 8
    bench/ingest/perf_stages.py perf.data 57     # 57: feedbackd's us per event in that run (run.sh)

Each sample goes to the first stage in RULES whose test its call stack passes (so the order
matters: the writer's and workers' threads first, then the handler's steps, then what
libmicrohttpd does outside our callbacks). libmicrohttpd has no symbols in Debian's package;
its frames count as "MHD" unless a kernel or libc symbol under them names the step. Prints a
Markdown table: share of the samples and that share of the given us per event.
"""
import sys, subprocess, collections

data, us = sys.argv[1], float(sys.argv[2])
out = subprocess.run(["perf", "script", "-i", data, "-F", "ip,sym"], capture_output=True, text=True).stdout
stacks, cur = [], []
for line in out.splitlines():
    if not line.strip():
        if cur: stacks.append(cur); cur = []
        continue
    parts = line.split(None, 1)
    cur.append(parts[1].strip() if len(parts) > 1 else parts[0])
if cur: stacks.append(cur)
RULES = [  # (stage, predicate on stack list leaf-first)
 ("writer: statements + libpq (db/ingest_db.c)", lambda s: "writer_main" in s and "fd_ingest_write_jobs" in s),
 ("writer: resume (eventfd write per request)", lambda s: "writer_main" in s and "MHD_resume_connection" in s),
 ("writer: queue wait/wake-ups", lambda s: "writer_main" in s and "fd_queue_take" in s),
 ("writer: other (edit hand-over, metrics)", lambda s: "writer_main" in s),
 ("background workers (edit ratios, stats catch-up)", lambda s: "worker_main" in s),
 ("handler: JSON parse (jansson)", lambda s: "json_loadb" in s),
 ("handler: content hash", lambda s: "fd_content_hash" in s),
 ("handler: validation + row", lambda s: "fd_feedback_row_new" in s or "fd_ingest_batch" in s and "fd_message_row_new" in s),
 ("handler: auth (SHA-256 + cache)", lambda s: "fd_auth_request" in s),
 ("handler: suspend (epoll_ctl DEL)", lambda s: "MHD_suspend_connection" in s or ("fd_ingest_request_submit" in s and any("epoll_ctl" in f for f in s))),
 ("handler: queue push + writer wake", lambda s: "fd_ingest_submit" in s),
 ("handler: reply building (MHD response, headers)", lambda s: any(f.startswith("fd_reply") or f.startswith("reply_") for f in s)),
 ("handler: other (routing, headers, checks)", lambda s: "on_request" in s),
 ("completion: free request + parsed body", lambda s: "on_completed" in s and ("request_free" in s or "ir_free" in s)),
 ("completion: log, metrics, guard", lambda s: "on_completed" in s),
 ("request start (on_uri)", lambda s: "on_uri" in s),
 ("connection guard callbacks", lambda s: any("conn_guard" in f for f in s)),
 ("MHD: send reply (sendmsg, loopback TCP)", lambda s: any("sendmsg" in f for f in s)),
 ("MHD: recv", lambda s: any("recv" in f for f in s)),
 ("MHD: pool zeroing (memset)", lambda s: "memset" in s[0]),
 ("MHD: epoll_wait (idle wake-ups)", lambda s: any("epoll_wait" in f for f in s)),
 ("MHD: epoll_ctl (resume re-adds)", lambda s: any("epoll_ctl" in f for f in s)),
 ("MHD: other", lambda s: True),
]
c = collections.Counter()
for s in stacks:
    for name, pred in RULES:
        if pred(s): c[name] += 1; break
n = len(stacks)
print(f"{n} samples, {us} us per event")
for name, _ in RULES:
    if c[name]: print(f"| {name} | {100*c[name]/n:.1f} % | {us*c[name]/n:.1f} µs |")
