"""Benchmark: note scrubbing, ours against scrubadub, on the same canary notes.

    .venv/bin/python bench/ehr_notes_deid.py [--notes 2000] [--seed 0] [--notes-csv PATH] [--json]

The notes: ``practicum.datasets.ehr_deid.canaries`` (half English, half Chinese; every PHI class
planted in turn, plus clinical terms that must survive). Figures per scrubber: recall per PHI
class (a value counts as caught only when none of its fragments survives), overall recall, the
over-scrub rate (clinical terms not kept verbatim) and throughput in notes per second (one
process, after a warm-up note, interpreter start-up excluded).

Ours runs in both modes (date-shift with a 47-day offset, safe-harbor). The peer is scrubadub 2
(https://github.com/LeapBeyond/scrubadub), the pip-installable scrubber, with its default
detectors plus ``date_of_birth``; its name detectors need NLTK or spaCy data downloaded at run
time, which this lab does not allow, so they are left out. Install it with the bench extra:
``.venv/bin/pip install -e ".[bench]"``. ``--notes-csv`` also times both on the ``text`` column of
a notes table (for example a build's ``sources/ehr/raw/ehr/notes.csv``).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from practicum.datasets.ehr_deid.canaries import REQUIRED_CLASSES, CanaryScore, canary_notes, score
from practicum.datasets.ehr_deid.modes import DeidMode
from practicum.datasets.ehr_deid.scrub import EMPTY_PATIENT, TextScrubber

Scrub = Callable[[str], str]


def peer_scrubber() -> Scrub | None:
    try:
        import scrubadub
    except ImportError:
        return None
    warnings.filterwarnings("ignore", module="scrubadub")
    scrubber = scrubadub.Scrubber()
    scrubber.add_detector("date_of_birth")
    return scrubber.clean


def ours(mode: DeidMode) -> Scrub:
    scrubber = TextScrubber([], {})
    offset = 47 if mode is DeidMode.DATE_SHIFT else None
    return lambda text: scrubber.scrub(text, EMPTY_PATIENT, offset, mode)


def timed(scrub: Scrub, texts: Sequence[str]) -> tuple[list[str], float]:
    scrub(texts[0])
    started = time.perf_counter()
    out = [scrub(t) for t in texts]
    return out, len(texts) / (time.perf_counter() - started)


def read_notes(path: Path) -> list[str]:
    csv.field_size_limit(10_000_000)
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle) if row.get("text")]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notes", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--notes-csv", type=Path, help="also time both scrubbers on this table's text column")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    notes = canary_notes(args.notes, seed=args.seed)
    texts = [n.text for n in notes]
    scrubbers: dict[str, Scrub] = {f"ours {m.value}": ours(m) for m in DeidMode}
    peer = peer_scrubber()
    if peer is None:
        print("scrubadub is not installed, so the peer column is missing: .venv/bin/pip install -e \".[bench]\"",
              file=sys.stderr)
    else:
        scrubbers["scrubadub"] = peer

    results: dict[str, tuple[CanaryScore, float]] = {}
    for name, scrub in scrubbers.items():
        out, rate = timed(scrub, texts)
        results[name] = (score(notes, out), rate)
    extra: dict[str, float] = {}
    if args.notes_csv:
        table = read_notes(args.notes_csv)
        for name, scrub in scrubbers.items():
            extra[name] = timed(scrub, table)[1]

    if args.json:
        print(json.dumps({
            "notes": len(notes), "seed": args.seed,
            "scrubbers": {name: {"recall": s.recall, "over_scrub_rate": s.over_scrub_rate, "notes_per_second": rate,
                                 "recall_per_class": {c: v.recall for c, v in s.per_class.items()},
                                 "clinical_destroyed": s.clinical_destroyed, "clinical_planted": s.clinical_planted,
                                 **({"notes_csv_per_second": extra[name]} if name in extra else {})}
                          for name, (s, rate) in results.items()},
        }, indent=2))
        return 0

    names = list(results)
    print(f"{len(notes)} canary notes (seed {args.seed}), "
          f"{sum(len(n.planted) for n in notes)} planted PHI values, "
          f"{sum(len(n.clinical) for n in notes)} clinical terms\n")
    width = max(len(n) for n in names)
    print(f"{'PHI class':<24} {'planted':>7}  " + "  ".join(f"{n:>{width}}" for n in names))
    for c in REQUIRED_CLASSES:
        planted = results[names[0]][0].per_class[c].planted
        cells = "  ".join(f"{results[n][0].per_class[c].recall:>{width}.1%}" for n in names)
        print(f"{c:<24} {planted:>7}  {cells}")
    print()
    rows = (("recall (all classes)", lambda s, r: f"{s.recall:.2%}"),
            ("over-scrub rate", lambda s, r: f"{s.over_scrub_rate:.2%} ({s.clinical_destroyed})"),
            ("notes / second", lambda s, r: f"{r:,.0f}"))
    for label, fmt in rows:
        print(f"{label:<32} " + "  ".join(f"{fmt(*results[n]):>{width}}" for n in names))
    if extra:
        print(f"{'notes / second, ' + args.notes_csv.name:<32} " + "  ".join(f"{extra[n]:>{width},.0f}" for n in names))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
