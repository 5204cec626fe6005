"""LUNA16 (Setio et al., Medical Image Analysis 2017) -> the lab's ``ct`` dataset.

Source: the challenge's folders ``subset0`` .. ``subset9`` of MetaImage volumes
(``<seriesuid>.mhd`` + ``.raw``, HU as stored) and ``annotations.csv``
(``seriesuid,coordX,coordY,coordZ,diameter_mm``, world mm); ``annotations_excluded.csv``
(from the evaluation script) is used when present, else no finding is excluded. Any number of
subsets may be present: annotations of scans that are not are left out (counted in the report).

The lab stores CT as DICOM series (the project and the grader read them with
``ct.load_series``), so every volume becomes a CT Image Storage series, one file per slice,
signed 16-bit HU (rescale slope 1, intercept 0), its geometry taken from the header (slice
positions along the z axis, orientation from TransformMatrix), the series uid the LUNA16
seriesuid and, as LUNA16 gives no patient ids, one patient per scan. The series then go through
the lab's DICOM de-identification (PS3.15 Basic Profile, UIDs remapped with the build's key),
are verified to hold none of the original UIDs, and are split and published by ``publish_ct``
with the annotations remapped to the new uids (test annotations hidden). ``candidates.csv``
and the lung segmentations are not imported.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid

from ..ct.annotations import COLUMNS, AnnotationRow, write_annotations
from ..dicom_deid import deidentify_dicom_folder, verify_dicom_folder
from ..dicom_deid.manifest import ManifestBuilder
from ..publish_ct import publish_ct
from .metaimage import MetaImageError, read_header, read_metaimage
from .staging import DatasetImportError, ImportReport, Staging, require_file, restate_card, source_files, staged_import


def import_luna16(source: Path, out_dir: Path) -> ImportReport:
    """Import the LUNA16 folder ``source`` as ``out_dir/public/ct`` (+ ``hidden/ct``)."""
    source = Path(source)
    headers = source_files(source, "*.mhd", folder_hint="the LUNA16 folder holding subset0 ... and annotations.csv",
                           none_found="MetaImage volumes (subset*/*.mhd)")
    for path in headers:  # every header is checked before anything is converted
        try:
            read_header(path)
        except MetaImageError as error:
            raise DatasetImportError(str(error)) from None
    uids = {path.stem: path for path in headers}
    annotations = _annotations(require_file(source / "annotations.csv", "LUNA16 nodule annotations"))
    excluded_file = next(iter(sorted(source.rglob("annotations_excluded.csv"))), None)
    excluded = _annotations(excluded_file) if excluded_file else []
    unknown = sorted({row.seriesuid for row in annotations + excluded} - set(uids))

    def build(staging: Staging) -> ImportReport:
        raw, dicom, deid = staging.scratch / "raw", staging.scratch / "raw" / "dicom", staging.scratch / "deid"
        manifest = ManifestBuilder()
        slices = 0
        for number, (uid, path) in enumerate(sorted(uids.items()), start=1):
            try:
                volume = read_metaimage(path)
            except MetaImageError as error:
                raise DatasetImportError(str(error)) from None
            slices += write_dicom_series(volume, uid, dicom / f"scan{number:04d}", manifest)
        write_annotations(raw / "annotations.csv", [r for r in annotations if r.seriesuid in uids])
        write_annotations(raw / "annotations_excluded.csv", [r for r in excluded if r.seriesuid in uids])
        report = deidentify_dicom_folder(dicom, deid, secret=staging.key, progress=False)
        refused = [*report.skipped, *report.quarantined]
        if refused:
            raise DatasetImportError(f"de-identification refused {len(refused)} converted slices, e.g. {refused[0].reason}")
        verified = verify_dicom_folder(deid, manifest.build({"source": "luna16"}), progress=False)
        if not verified.ok:
            raise DatasetImportError(f"de-identified series failed verification; nothing imported ({verified.summary()})")
        published = publish_ct(raw, deid, staging.public, staging.hidden, key=staging.key, version="1.0.0")
        notes = ["LUNA16 gives no patient ids: each scan counts as one patient for the split.",
                 "Volumes converted as stored (int16 HU, rescale slope 1, intercept 0); geometry from each .mhd header."]
        if unknown:
            notes.append(f"{len(unknown)} annotated scans are not in the subsets given and were left out.")
        restate_card(
            staging.public / "ct",
            summary="Chest CT scans of the LUNA16 challenge (LIDC-IDRI, nodules of 3 mm or more accepted by at least "
            "three of four radiologists) as DICOM CT series, with their LUNA16 annotations.",
            provenance="Imported by `practicum datasets import luna16` from LUNA16 MetaImage volumes (Setio AAA et al., "
            "Medical Image Analysis 2017;42:1-13; LIDC-IDRI, Armato SG et al., Medical Physics 2011, CC BY 3.0), "
            "converted to one DICOM file per slice.",
            deidentification="LIDC-IDRI is distributed de-identified; the converted series were de-identified again with "
            "the DICOM PS3.15 Basic Profile (UIDs remapped with the build's key) and verified to hold no original UID.",
            notes=notes,
        )
        return ImportReport(
            dataset="ct", source_format="luna16", source=str(source), public_dir="", hidden_dir="",
            splits=published.splits,
            counts={"scans": len(uids), "slices": slices, "nodules": sum(r.seriesuid in uids for r in annotations),
                    "excluded_findings": sum(r.seriesuid in uids for r in excluded), "annotated_scans_missing": len(unknown)},
            notes=notes,
        )

    return staged_import(out_dir, "ct", build)


def _annotations(path: Path) -> list[AnnotationRow]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise DatasetImportError(f"{path}: wrong header, missing columns {missing} (LUNA16: {','.join(COLUMNS)})")
        rows = []
        for line, row in enumerate(reader, start=2):
            try:
                rows.append(AnnotationRow(row["seriesuid"].strip(), float(row["coordX"]), float(row["coordY"]),
                                          float(row["coordZ"]), float(row["diameter_mm"])))
            except (TypeError, ValueError):
                raise DatasetImportError(f"{path}, line {line}: coordinates and diameter must be numbers") from None
    return rows


def write_dicom_series(volume, series_uid: str, folder: Path, manifest: ManifestBuilder) -> int:  # noqa: ANN001
    """One CT Image Storage file per slice of a MetaImage volume; returns the number of files."""
    nz, ny, nx = volume.voxels.shape
    sx, sy, sz = volume.spacing
    x_axis, y_axis, z_axis = volume.axes
    study_uid = generate_uid(entropy_srcs=[series_uid, "study"])
    frame_uid = generate_uid(entropy_srcs=[series_uid, "frame"])
    hu = np.clip(np.rint(volume.voxels), -32768, 32767).astype("<i2")
    base = Dataset()
    base.SOPClassUID = CTImageStorage
    base.Modality = "CT"
    base.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    base.PatientID = series_uid[-16:]
    base.PatientName = ""
    base.StudyInstanceUID = study_uid
    base.SeriesInstanceUID = series_uid
    base.FrameOfReferenceUID = frame_uid
    base.SeriesNumber = 1
    base.BodyPartExamined = "CHEST"
    base.BurnedInAnnotation = "NO"
    base.SliceThickness = f"{sz:g}"
    base.ImageOrientationPatient = [f"{v:.6f}" for v in (*x_axis, *y_axis)]
    base.SamplesPerPixel = 1
    base.PhotometricInterpretation = "MONOCHROME2"
    base.Rows, base.Columns = ny, nx
    base.PixelSpacing = [f"{sy:g}", f"{sx:g}"]
    base.BitsAllocated, base.BitsStored, base.HighBit, base.PixelRepresentation = 16, 16, 15, 1
    base.RescaleIntercept, base.RescaleSlope, base.RescaleType = "0", "1", "HU"
    for uid in (series_uid, study_uid, frame_uid):
        manifest.add_uid(uid)
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(nz):
        ds = Dataset()
        ds.update(base)
        ds.SOPInstanceUID = generate_uid(entropy_srcs=[series_uid, "slice", str(k)])
        ds.InstanceNumber = k + 1
        position = np.asarray(volume.offset) + k * sz * z_axis
        ds.ImagePositionPatient = [f"{v:.4f}" for v in position]
        ds.SliceLocation = f"{position[2]:.4f}"
        ds.PixelData = np.ascontiguousarray(hu[k]).tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        ds.file_meta = meta
        pydicom.dcmwrite(folder / f"IM{k + 1:04d}.dcm", ds, enforce_file_format=True)
        manifest.add_uid(ds.SOPInstanceUID)
    return nz
