"""`practicum datasets build | deid | verify | import`: thin wrappers over practicum.datasets."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console

from practicum.datasets.dicom_deid import DeidOptions, deidentify_dicom_folder, verify_dicom_folder
from practicum.datasets.dicom_deid.options import OPTION_CODES, OPTION_HELP
from practicum.datasets.dicom_deid.profile import TABLE_NAME
from practicum.datasets.dicom_deid.reader import looks_like_dicom
from practicum.datasets.ehr_deid import (
    DEFAULT_SCHEMA,
    DeidInputError,
    DeidMode,
    DeidSchema,
    deidentify_ehr_folder,
    verify_ehr_folder,
)
from practicum.datasets.imports import IMPORTERS, DatasetImportError, import_dataset
from practicum.datasets.pipeline import LeakFound, build_datasets, load_or_create_key
from practicum.lab.errors import LabError

console = Console(highlight=False, soft_wrap=True)


def add_datasets_commands(sub: argparse._SubParsersAction) -> None:
    datasets = sub.add_parser(
        "datasets",
        help="build, de-identify and verify the lab's datasets",
        description="Build the synthetic CT/EHR/CGM datasets, or de-identify and verify your own exports.",
    )
    commands = datasets.add_subparsers(dest="datasets_command", metavar="COMMAND", required=True)

    build = commands.add_parser(
        "build",
        help="make the datasets: raw exports, de-identified, verified, split, with cards",
        description="Generate synthetic hospital exports (with planted PHI), de-identify them, verify that no "
        "planted value survives, and publish train/val/test splits (test labels apart, owner-only) with cards. "
        "Start the lab on them with `practicum up --datasets OUT/public`.",
    )
    build.add_argument("--size", choices=["small", "full"], default="small", help="small (default) or full (GPU)")
    build.add_argument("--out", required=True, help="build folder (raw/, deid/, public/, hidden/, reports/)")
    build.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.add_argument(
        "--random-key",
        action="store_true",
        help="a random de-identification key instead of one derived from size and seed (the hidden split then "
        "differs from the one the projects' targets were measured on)",
    )
    build.set_defaults(func=cmd_build)

    deid = commands.add_parser(
        "deid",
        help="de-identify a folder of DICOM files or of EHR CSV exports",
        description=f"DICOM ({TABLE_NAME} Basic Application Level Confidentiality Profile, fail closed: an "
        "attribute the table does not list is removed unless it is on the keep list of pixel, geometry and "
        "acquisition attributes; malformed files are reported and skipped; files whose pixels may show PHI are "
        "quarantined) or EHR CSV tables, chosen by what the folder holds. The key (keyed pseudonyms, UIDs and "
        "date shifts; keep it to re-run consistently) is read from --key-file, created there if missing.",
    )
    deid.add_argument("input_dir")
    deid.add_argument("--out", required=True, help="output folder (written whole or not at all)")
    deid.add_argument("--schema", help="JSON schema naming each table's identifier, date, ZIP and free-text columns "
                      "(default: the lab's own export schema)")
    deid.add_argument(
        "--mode", choices=[m.value for m in DeidMode], default=DeidMode.SAFE_HARBOR.value,
        help="EHR only. safe-harbor (default): HIPAA Safe Harbor, 45 CFR 164.514(b)(2), dates reduced to their year; "
        "date-shift: every date of a patient moved by one secret offset, intervals kept - a limited data set or "
        "expert determination, not Safe Harbor (the lab's own dataset build uses it). The report names the mode.")
    deid.add_argument("--key-file", help="default: OUT/../deid.key")
    deid.add_argument("--quiet", action="store_true")
    dicom = deid.add_argument_group(
        "DICOM options (PS3.15 E.3; each adds its CID 7050 code to the output's De-identification Method Code Sequence)"
    )
    for name, help_text in OPTION_HELP.items():
        dicom.add_argument(f"--{name.replace('_', '-')}", action="store_true", help=f"{help_text} ({OPTION_CODES[name]})")
    dicom.add_argument("--workers", type=int, default=1, help="processes for DICOM de-identification (default 1)")
    deid.set_defaults(func=cmd_deid)

    verify = commands.add_parser(
        "verify",
        help="check a de-identified folder against the planted-PHI manifest; exit 1 on any leak",
        description="Verify a build folder (made by `datasets build`), or a de-identified folder with --manifest.",
    )
    verify.add_argument("dir")
    verify.add_argument("--manifest", help="PHI manifest of a single de-identified folder (default: DIR is a build "
                        "folder; its CT and EHR outputs are checked against their manifests)")
    verify.add_argument("--json", action="store_true", help="print the full report as JSON")
    verify.set_defaults(func=cmd_verify)

    imported = commands.add_parser(
        "import",
        help="convert your local copy of LUNA16, OhioT1DM or the MIMIC-IV demo into the lab's datasets",
        description="Convert a public dataset you have downloaded (under its own licence or data use agreement) "
        "into the lab's layout and splits, so the projects and the grader run on it unchanged. Nothing is "
        "downloaded. OUT/public/<dataset> (with its card) and OUT/hidden/<dataset> (test labels, owner-only) are "
        "replaced all at once, and only if the whole import succeeded; the other datasets in OUT are not touched.",
        epilog=IMPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imported.add_argument("dataset", choices=list(IMPORTERS), help="which public dataset PATH holds")
    imported.add_argument("path", type=Path, metavar="PATH", help="the folder of your copy, as distributed")
    imported.add_argument("--out", type=Path, default=None,
                          help="build folder (default: datasets/ of the lab's state folder, the one `practicum up` mounts)")
    imported.add_argument("--json", action="store_true", help="print the import report as JSON")
    imported.set_defaults(func=cmd_import)


IMPORT_EPILOG = """\
What PATH holds and what it becomes:
  luna16         subset0/ .. subset9/ with <seriesuid>.mhd + .raw (any of them), annotations.csv
                 (annotations_excluded.csv if present)
                 -> ct: one DICOM series per scan (de-identified, original UIDs verified gone),
                    split by scan 45/15/40 %, test annotations hidden
  ohiot1dm       <id>-ws-training.xml / -testing.xml files
                 -> cgm: 5-minute readings (mg/dL) with basal, bolus, meal and exercise events,
                    patient ids pseudonymised, each trace split by time 60/20/20 %
  mimic-iv-demo  hosp/patients.csv, admissions.csv, diagnoses_icd.csv, labevents.csv, d_labitems.csv
                 (d_icd_diagnoses, prescriptions, omr if present; .csv.gz also read)
                 -> ehr_risk: the diabetes patients' tables, outcomes from later admissions,
                    lab de-identification (date-shift), split by patient 60/20/20 %
A missing file, malformed XML, a bad .mhd header or a wrong CSV header is an error naming the file.
Examples:
  practicum datasets import luna16 ~/data/LUNA16
  practicum datasets import ohiot1dm ~/data/OhioT1DM/2018/train --out .lab/datasets
"""


def cmd_import(args: argparse.Namespace) -> int:
    from practicum.lab.layout import default_state_dir

    out = args.out if args.out is not None else default_state_dir() / "datasets"
    try:
        report = import_dataset(args.dataset, args.path, out)
    except DatasetImportError as exc:
        raise LabError(str(exc)) from None
    if args.json:
        print(report.to_json())
        return 0
    splits = ", ".join(f"{name} {count}" for name, count in report.splits.items())
    console.print(f"  [green]✓[/green] {report.dataset:<10} {report.public_dir}  ({splits}) from {args.dataset}")
    for note in report.notes:
        console.print(f"    {note}", markup=False)
    console.print(f"Hidden test labels: {report.hidden_dir} (owner-only). Report: {out / 'reports'}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    try:
        report = build_datasets(Path(args.out), size=args.size, seed=args.seed, progress=not args.quiet, random_key=args.random_key)
    except LeakFound as exc:
        raise LabError(str(exc)) from None
    for dataset in report.published:
        splits = ", ".join(f"{name} {count}" for name, count in dataset.splits.items())
        console.print(f"  [green]✓[/green] {dataset.name:<10} {dataset.public_dir}  ({splits})")
    console.print(f"Verified: {report.verified}. Hidden test labels: {Path(args.out) / 'hidden'} (owner-only).")
    console.print(f"Start the lab on them: practicum up --datasets {Path(args.out) / 'public'}")
    return 0


def cmd_deid(args: argparse.Namespace) -> int:
    source, output = Path(args.input_dir), Path(args.out)
    if not source.is_dir():
        raise LabError(f"{source} is not a folder")
    key = load_or_create_key(Path(args.key_file) if args.key_file else output.parent / "deid.key")
    if _holds_dicom(source):
        try:
            options = DeidOptions(**{name: getattr(args, name) for name in OPTION_HELP})
        except ValueError as exc:
            raise LabError(str(exc)) from None
        report = deidentify_dicom_folder(source, output, secret=key, options=options, progress=not args.quiet,
                                         workers=args.workers)
        console.print(json.dumps(report.to_json(), indent=2))
        return 0
    try:
        schema = DeidSchema.read(Path(args.schema)) if args.schema else DEFAULT_SCHEMA
        ehr_report = deidentify_ehr_folder(source, output, secret=key, schema=schema, mode=args.mode,
                                           progress=not args.quiet)
    except DeidInputError as exc:
        raise LabError(str(exc)) from None
    console.print(ehr_report.to_json())
    return 0


def _holds_dicom(folder: Path) -> bool:
    """One DICOM file (Part 10, or a bare data set without the preamble) makes it a DICOM folder."""
    return any(path.is_file() and path.suffix.lower() != ".csv" and looks_like_dicom(path) for path in folder.rglob("*"))


def cmd_verify(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if args.manifest:
        if _holds_dicom(folder):
            return _verify_dicom(folder, Path(args.manifest), args.json)
        return _verify_ehr(folder, Path(args.manifest), args.json)
    ct_manifest = folder / "sources" / "ct" / "raw" / "phi_manifest.json"
    ehr_manifest = folder / "sources" / "ehr" / "raw" / "ehr_phi_manifest.json"
    if not (ct_manifest.exists() and ehr_manifest.exists()):
        raise LabError(f"{folder} is not a folder made by `datasets build`: give --manifest for a single folder")
    ct_status = _verify_dicom(folder / "deid" / "ct", ct_manifest, args.json)
    ehr_status = _verify_ehr(folder / "deid" / "ehr", ehr_manifest, args.json)
    return max(ct_status, ehr_status)


def _verify_dicom(target: Path, manifest: Path, as_json: bool) -> int:
    report = verify_dicom_folder(target, manifest, progress=False)
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        console.print(report.summary())
        console.print("[green]PASSED[/green]" if report.ok else "[red]FAILED[/red]")
    return 0 if report.ok else 1


def _verify_ehr(target: Path, manifest: Path, as_json: bool) -> int:
    if not manifest.exists():
        raise LabError(f"no PHI manifest at {manifest}")
    report = verify_ehr_folder(target, manifest)
    if as_json:
        print(report.to_json())
    else:
        console.print(f"{target}: {report.files_scanned} files, {report.bytes_scanned:,} bytes scanned for "
                      f"{report.values_checked} planted values")
        console.print(f"  leaks: {len(report.leaks)}" + "".join(f"\n    {leak.kind} in {leak.file} ({leak.count}x)"
                                                         for leak in report.leaks))
        failures = {name: getattr(report, name) for name in ("date_failures", "age_failures", "zip_failures",
                                                              "pseudonym_failures", "note_failures",
                                                              "row_count_failures")}
        for name, items in failures.items():
            console.print(f"  {name.replace('_', ' ')}: {len(items)}")
        k = report.k_anonymity
        if k is not None:
            console.print(f"  k-anonymity on ({', '.join(k.quasi_identifiers)}): min k {k.min_k}; "
                          f"{k.records_below_k} of {k.n_records} records in classes under {k.k_threshold} (reported)")
        console.print("[green]PASSED[/green]" if report.passed else "[red]FAILED[/red]")
    return 0 if report.passed else 1
