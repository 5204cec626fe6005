"""Where each learner's own nbgrader inbound lives: one layout for the lab's collector, the local
sandboxes and the Kubernetes volumes.

A learner's inbound of a course is ``<inbounds root>/<course>/<learner>/`` (the local lab's
``exchange-inbound`` folder, the Kubernetes inbound volume). The collector
(``graders.exchange.PrivateInboundCollect``, ``inbounds_root = <inbounds root>/<course>``) takes a
folder's name for its owner and refuses a submission whose name (nbgrader's
``<learner>+<assignment>+...``) names someone else, so ``<learner>`` is the hub's user name, and only
names that can be one folder here (``LEARNER_NAME``) are accepted anywhere.
"""

from __future__ import annotations

import posixpath
import re

LEARNER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,128}$")


def inbound_name(name: str, what: str = "learner name") -> str:
    """``name`` if it can be one folder of the inbounds layout (never ``.`` or ``..``), else ValueError."""
    if not LEARNER_NAME.fullmatch(name) or set(name) == {"."}:
        raise ValueError(
            f"{what} {name!r} cannot name an nbgrader inbound folder: use 1-128 letters, digits, '_', '.', '@' or '-' "
            "(and not only dots)"
        )
    return name


def course_inbounds(inbounds_root: str, course: str) -> str:
    """The folder of every learner's inbound of ``course``: the collector's inbounds_root."""
    return posixpath.join(inbounds_root, inbound_name(course, "course id"))


def learner_inbound(inbounds_root: str, course: str, learner: str) -> str:
    """``learner``'s own inbound of ``course`` (``inbounds_root`` "" gives the path inside the inbounds volume)."""
    return posixpath.join(course_inbounds(inbounds_root, course), inbound_name(learner))
