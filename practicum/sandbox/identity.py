"""Who a sandbox runs as: uid 1000 ("jovyan") inside, an unprivileged host uid outside.

Each learner and each course has a host uid of its own, from a range no real account uses, kept
in a small registry file of the lab's state so that the owner of a home folder stays the same
across restarts. Grading sandboxes share one uid: they never share a namespace, a folder or a
process with each other.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from pathlib import Path

from .spec import SANDBOX_UID, SANDBOX_USER, FileContent

FIRST_UID = 300000  # above the usual /etc/subuid ranges (100000-165535) and every real account
GRADING_UID = FIRST_UID
_RANGES = {"grading": (FIRST_UID, FIRST_UID + 1), "course": (FIRST_UID + 1000, FIRST_UID + 10000), "learner": (FIRST_UID + 10000, FIRST_UID + 1_000_000)}
_NAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,128}$")


def identity_files(home: str = f"/home/{SANDBOX_USER}", host_etc: str = "/etc") -> tuple[FileContent, FileContent]:
    """/etc/passwd and /etc/group for a sandbox: the host's system accounts, uid 1000 named jovyan."""
    entries = {
        "passwd": f"{SANDBOX_USER}:x:{SANDBOX_UID}:{SANDBOX_UID}:Learner:{home}:/bin/bash",
        "group": f"{SANDBOX_USER}:x:{SANDBOX_UID}:",
    }
    made = []
    for name, entry in entries.items():
        try:
            lines = Path(host_etc, name).read_text().splitlines()
        except OSError:
            lines = []
        kept = [line for line in lines if not _names_sandbox_identity(line)]
        made.append(FileContent(f"/etc/{name}", ("\n".join([*kept, entry]) + "\n").encode()))
    return made[0], made[1]


def _names_sandbox_identity(line: str) -> bool:
    fields = line.split(":")
    return len(fields) > 2 and (fields[0] == SANDBOX_USER or fields[2] == str(SANDBOX_UID))


class UidRegistry:
    """Stable host uids for learners and courses, kept in a JSON file (mode 600, locked while written)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def uid_for(self, kind: str, name: str) -> int:
        if kind == "grading":
            return GRADING_UID
        if kind not in _RANGES or not _NAME.match(name):
            raise ValueError(f"no sandbox uid for {kind!r} {name!r}")
        key = f"{kind}:{name}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            text = handle.read()
            known: dict[str, int] = json.loads(text) if text.strip() else {}
            if key not in known:
                low, high = _RANGES[kind]
                taken = {uid for uid in known.values() if low <= uid < high}
                known[key] = next(uid for uid in range(low, high) if uid not in taken)
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps(known, indent=1, sort_keys=True))
            return known[key]


def own(path: str | Path, uid: int, *, always: bool = False) -> None:
    """Give a folder and everything in it (without following links) to ``uid``: when the folder is not
    theirs yet, or ``always`` (after root wrote in it, e.g. nbgrader run by the grader)."""
    top = Path(path)
    if top.lstat().st_uid == uid and not always:
        return
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, uid)
    os.lchown(top, uid, uid)
