"""k-anonymity of a table over its quasi-identifiers (Sweeney, Int J Uncertain Fuzziness
Knowl-Based Syst 2002;10(5):557-570): every combination of quasi-identifier values must be
shared by at least k records."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class KAnonymityReport:
    quasi_identifiers: tuple[str, ...]
    k_threshold: int
    n_records: int
    n_classes: int
    min_k: int  # size of the smallest equivalence class (0 when there are no records)
    classes_below_k: int
    records_below_k: int

    @property
    def satisfied(self) -> bool:
        return self.min_k >= self.k_threshold

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "satisfied": self.satisfied}, indent=2)


def k_anonymity(rows: Iterable[Sequence[str]], quasi_identifiers: Sequence[str], k_threshold: int = 5) -> KAnonymityReport:
    """Equivalence classes of the quasi-identifier tuples in ``rows`` (one tuple per record)."""
    classes = Counter(tuple(r) for r in rows)
    sizes = list(classes.values())
    small = [s for s in sizes if s < k_threshold]
    return KAnonymityReport(
        quasi_identifiers=tuple(quasi_identifiers),
        k_threshold=k_threshold,
        n_records=sum(sizes),
        n_classes=len(sizes),
        min_k=min(sizes) if sizes else 0,
        classes_below_k=len(small),
        records_below_k=sum(small),
    )
