"""nbgrader's collect, from inbounds that belong to one learner each.

nbgrader's default exchange is one shared inbound folder every learner can write, so any learner
can read, delete or forge another's submission (the known weakness of its shared-folder exchange).
In this lab each learner's sandbox sees, as the course's inbound, a folder of their own
(``<inbounds_root>/<learner>/``) and nothing of anyone else's. This collector reads those folders
and only believes what each says about its owner: a submission folder named for another learner
is refused, and a submission is copied without following links, FIFOs or devices, within size
limits (folders and regular files only).

Configure it in a course's nbgrader_config.py::

    c.ExchangeFactory.collect = "practicum.graders.exchange.PrivateInboundCollect"
    c.PrivateInboundCollect.inbounds_root = "/path/to/exchange-inbound/<course>"
"""

from __future__ import annotations

import os
import shutil
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.utils import parse_utc
from traitlets import Integer, Unicode

from practicum.contracts.exchange import LEARNER_NAME
from practicum.sandbox.limits import MIB
from practicum.sandbox.readback import TreeLimits, UnsafeFile, copy_tree, walk_regular


def submission_timestamp(owner: str, assignment: str, entry: Path, limits: TreeLimits) -> datetime | None:
    """When ``entry`` of ``owner``'s inbound was submitted, if it is a submission of ``assignment``
    (None: some other assignment's); UnsafeFile when it must be refused (a link, a forged owner, an
    unreadable timestamp, a link or a FIFO inside, too big). Refused before nbgrader replaces the
    submission collected earlier, not after."""
    parts = entry.name.rsplit("+", 3)
    if len(parts) < 3 or parts[1] != assignment:
        return None
    if entry.is_symlink() or not entry.is_dir():
        raise UnsafeFile("a submission is a folder, not a link or a file")
    if parts[0] != owner:
        raise UnsafeFile(f"it claims to be submitted by {parts[0]} but lies in {owner}'s inbound (forged?)")
    try:
        timestamp = parse_utc(parts[2])
    except (ValueError, TypeError, OverflowError):
        raise UnsafeFile(f"its timestamp {parts[2]!r} cannot be read") from None
    for _ in walk_regular(entry, limits):
        pass
    return timestamp


def latest_submission(owner_dir: Path, owner: str, assignment: str, limits: TreeLimits) -> Path | None:
    """``owner``'s newest acceptable submission of ``assignment`` in their inbound, or None."""
    found = []
    for entry in sorted(owner_dir.iterdir()) if owner_dir.is_dir() and not owner_dir.is_symlink() else ():
        try:
            timestamp = submission_timestamp(owner, assignment, entry, limits)
        except UnsafeFile:
            continue
        if timestamp is not None:
            found.append((timestamp, entry))
    return max(found)[1] if found else None


class PrivateInboundCollect(ExchangeCollect):
    inbounds_root = Unicode(
        "",
        help="Folder holding one inbound folder per learner (<learner>/<learner>+<assignment>+<timestamp>+<random>/).",
    ).tag(config=True)
    max_files = Integer(2000, help="Most files one submission may hold.").tag(config=True)
    max_megabytes = Integer(500, help="Most megabytes one submission may hold.").tag(config=True)

    def init_src(self) -> None:
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        root = Path(self.inbounds_root)
        if not root.is_dir():
            self.fail(f"No learner inbounds at {root} (set PrivateInboundCollect.inbounds_root)")
        wanted = self.coursedir.student_id or "*"
        records = defaultdict(list)
        for owner_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
            owner = owner_dir.name
            if not LEARNER_NAME.fullmatch(owner) or set(owner) == {"."} or (wanted != "*" and owner != wanted):
                continue
            for entry in sorted(owner_dir.iterdir()):
                try:
                    timestamp = submission_timestamp(owner, self.coursedir.assignment_id, entry, self._limits())
                except UnsafeFile as refusal:
                    self.log.warning("Refusing the submission %s: %s", entry, refusal)
                    continue
                if timestamp is not None:
                    records[owner].append({"username": owner, "filename": f"{owner}/{entry.name}", "timestamp": timestamp})
        self.src_records = []
        for found in records.values():
            newest_first = sorted(found, key=lambda r: r["timestamp"], reverse=True)
            self.src_records.append(newest_first[0])

    def _limits(self) -> TreeLimits:
        return TreeLimits(max_files=self.max_files, max_bytes=self.max_megabytes * MIB)

    def init_dest(self) -> None:
        self.inbound_path = self.inbounds_root  # nbgrader's copy_files joins it with each record's filename
        # Ownership is the folder a submission lies in, checked above; sandbox uids have no passwd entry.
        self.check_owner = False

    def do_copy(self, src: str, dest: str) -> None:
        try:
            place_submission(Path(src), Path(dest), self._limits())
        except UnsafeFile as error:
            self.log.warning("Refusing the submission %s: %s", src, error)


def place_submission(entry: Path, dest: Path, limits: TreeLimits) -> None:
    """Copy one inbound submission folder (``<learner>+<assignment>+<timestamp>+<random>``) to ``dest``
    (``<course>/submitted/<learner>/<assignment>``) as nbgrader's collect would; UnsafeFile if it is not
    only folders and regular files within ``limits`` (nothing is left at ``dest`` then)."""
    try:
        copy_tree(str(entry), str(dest), limits)
    except UnsafeFile:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    # nbgrader dates a collected submission by its timestamp.txt, which the learner wrote (an unreadable
    # one stops every later collect of the course): keep the folder's own timestamp, checked when chosen.
    (dest / "timestamp.txt").write_text(entry.name.rsplit("+", 3)[2])
    os.chmod(dest, 0o755)
