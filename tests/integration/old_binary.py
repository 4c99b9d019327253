"""old_binary.py — a feedbackd binary built from the commit before migration 0011, for the
upgrade test: a database migrated and filled by the previous schema's own server.

The source is `git archive` of the parent of the commit that added
migrations/0011_partitions_retention.sql (HEAD while it is not committed yet), built with
meson into build-old-<commit>/ under the repository (kept: later runs reuse it).
FEEDBACKD_OLD_BIN names a ready binary instead.
"""

import os
import shutil
import subprocess

from helpers import REPO

MIGRATION = "migrations/0011_partitions_retention.sql"


def _git(*args):
    return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True, timeout=60)


def old_commit():
    added = _git("log", "--diff-filter=A", "--format=%H", "--", MIGRATION)
    if added.returncode != 0:
        return None
    first = added.stdout.split()
    rev = f"{first[-1]}^" if first else "HEAD"
    r = _git("rev-parse", "--verify", rev)
    if r.returncode != 0:
        return None
    commit = r.stdout.strip()
    if _git("cat-file", "-e", f"{commit}:{MIGRATION}").returncode == 0:
        return None  # HEAD has the file but the log could not tell when it came
    return commit


def old_binary():
    """Path of the pre-0011 binary, or None with the reason as second value."""
    given = os.environ.get("FEEDBACKD_OLD_BIN")
    if given:
        return given, None
    if shutil.which("git") is None or shutil.which("meson") is None:
        return None, "git or meson missing"
    commit = old_commit()
    if not commit:
        return None, "not a git checkout with the commit before migration 0011"
    root = os.path.join(REPO, f"build-old-{commit[:12]}")
    binary = os.path.join(root, "build", "feedbackd")
    if os.path.exists(binary):
        return binary, None
    src = os.path.join(root, "src")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(src)
    archive = subprocess.run(f"git -C {REPO} archive {commit} | tar -x -C {src}", shell=True,
                             capture_output=True, text=True, timeout=120)
    assert archive.returncode == 0, archive.stderr
    for cmd in (["meson", "setup", os.path.join(root, "build"), src, "--buildtype=release"],
                ["ninja", "-C", os.path.join(root, "build"), "feedbackd"]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
        assert r.returncode == 0, f"{' '.join(cmd)}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return binary, None
