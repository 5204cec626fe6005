"""`practicum datasets import`: a user's local copy of a public dataset, in the lab's layout and splits.

* ``luna16`` -> ``ct`` (DICOM series + LUNA16 annotations): :mod:`.luna16`
* ``ohiot1dm`` -> ``cgm`` (readings + events, split by time): :mod:`.ohiot1dm`
* ``mimic-iv-demo`` -> ``ehr_risk`` (EHR tables + outcomes, split by patient): :mod:`.mimic_iv_demo`

Each writes ``OUT/public/<dataset>`` (with its card), ``OUT/hidden/<dataset>`` (the test split's
labels) and ``OUT/reports/import_<dataset>.json``, all or nothing; nothing else in ``OUT`` changes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .luna16 import import_luna16
from .metaimage import MetaImage, MetaImageError, read_metaimage
from .mimic_iv_demo import import_mimic_iv_demo
from .ohiot1dm import import_ohiot1dm
from .staging import DatasetImportError, ImportReport

IMPORTERS: dict[str, Callable[[Path, Path], ImportReport]] = {
    "luna16": import_luna16,
    "ohiot1dm": import_ohiot1dm,
    "mimic-iv-demo": import_mimic_iv_demo,
}


def import_dataset(source_format: str, source: Path, out_dir: Path) -> ImportReport:
    """Import ``source`` (a folder in ``source_format``) into the build folder ``out_dir``."""
    try:
        importer = IMPORTERS[source_format]
    except KeyError:
        raise DatasetImportError(f"unknown dataset {source_format!r}; known: {', '.join(IMPORTERS)}") from None
    return importer(Path(source), Path(out_dir))


__all__ = [
    "IMPORTERS", "DatasetImportError", "ImportReport", "MetaImage", "MetaImageError", "import_dataset",
    "import_luna16", "import_mimic_iv_demo", "import_ohiot1dm", "read_metaimage",
]
