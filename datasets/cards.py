"""Dataset cards: what a dataset is, how it was made, its schema, version and checksums."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    description: str


@dataclass(frozen=True)
class DatasetCard:
    name: str
    version: str
    summary: str
    provenance: str
    deidentification: str
    splits: dict[str, int]
    split_unit: str = "patients"  # what the split counts count
    schema: list[ColumnDoc] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Rows of {measure, this_build, published, source}: the data beside the published figures it imitates.
    population: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    def to_markdown(self) -> str:
        lines = [
            f"# {self.name} (version {self.version})",
            "",
            self.summary,
            "",
            "## How it was made",
            "",
            self.provenance,
            "",
            "## De-identification",
            "",
            self.deidentification,
            "",
            f"## Splits ({self.split_unit})",
            "",
            f"| split | {self.split_unit} |",
            "|---|---|",
            *[f"| {name} | {count} |" for name, count in self.splits.items()],
            "",
        ]
        if self.schema:
            lines += ["## Schema", "", "| column / file | description |", "|---|---|"]
            lines += [f"| `{c.name}` | {c.description} |" for c in self.schema]
            lines.append("")
        if self.population:
            lines += ["## Population (this build beside published figures)", "",
                      "| measure | this build | published | source |", "|---|---|---|---|"]
            lines += [f"| {row['measure']} | {row['this_build']} | {row['published']} | {row['source']} |" for row in self.population]
            lines.append("")
        if self.notes:
            lines += ["## Notes", "", *[f"- {note}" for note in self.notes], ""]
        lines += [
            "## Checksums (SHA-256)",
            "",
            f"{len(self.checksums)} files; the full list is in card.json.",
            "",
        ]
        return "\n".join(lines)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksums(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): sha256_of(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name not in ("card.json", "CARD.md")
    }


def write_card(folder: Path, card: DatasetCard) -> None:
    (folder / "card.json").write_text(card.to_json())
    (folder / "CARD.md").write_text(card.to_markdown())
