#!/usr/bin/env python3
"""runstat.py OUT SECONDS CMD... — run CMD (killed after SECONDS, as timeout(1) would) and
write "user sys oncpu runq wall" to OUT: its CPU seconds (rusage), from /proc/<pid>/schedstat
read after it exits but before it is reaped, the seconds it ran and the seconds it waited
runnable for a CPU (run-queue wait: what a loaded machine adds to its wall time), and its
wall seconds from start to exit (without this interpreter's own start-up). A wrapper such as
timeout(1) would hide the command's own schedstat, hence this. Exits with CMD's status, or
124 when it was killed at the deadline (as timeout(1)).
"""
import os
import subprocess
import sys
import threading
import time

out, seconds, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
t0 = time.monotonic()
p = subprocess.Popen(cmd)
timer = threading.Timer(seconds, p.terminate)
timer.start()
os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: /proc/<pid> stays
wall = time.monotonic() - t0
timer.cancel()
try:
    with open(f"/proc/{p.pid}/schedstat") as f:
        oncpu, runq, _ = (int(x) for x in f.read().split())
except OSError:
    oncpu = runq = 0
_, status, ru = os.wait4(p.pid, 0)
with open(out, "w") as f:
    f.write(f"{ru.ru_utime:.2f} {ru.ru_stime:.2f} {oncpu / 1e9:.2f} {runq / 1e9:.2f} {wall:.3f}\n")
sys.exit(124 if timer.finished.is_set() and os.WIFSIGNALED(status) else os.waitstatus_to_exitcode(status))
