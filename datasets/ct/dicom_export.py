"""Write a generated scan as a hospital would export it: one CT Image Storage file per slice.

Files are Explicit VR Little Endian with a valid file meta header; pixels are signed
16-bit stored values with HU = stored × RescaleSlope + RescaleIntercept. The headers
carry the identifying information a real export carries - in the patient, study and
equipment modules, in free-text descriptions, in sequences (some nested two deep) and
in private blocks - and every planted value and original UID is recorded in the
build's PHI manifest.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, CTImageStorage, ExplicitVRLittleEndian

from ..dicom_deid.manifest import ManifestBuilder
from .phantom import GeneratedCase
from .phi import age_string
from .plan import SeriesPlan, StudyPlan, make_uid

MPPS_SOP_CLASS = "1.2.840.10008.3.1.2.3.3"
STUDY_COMPONENT_SOP_CLASS = "1.2.840.10008.3.1.2.3.2"
PRIVATE_CREATOR_PACS = "NORTHWIND PACS 2.1"
PRIVATE_CREATOR_SCANNER = "SYNTHETICA CT 1.0"


def _t(base: str, seconds: float) -> str:
    h, m, s = int(base[:2]), int(base[2:4]), int(base[4:6])
    t = dt.datetime(2000, 1, 1, h, m, s) + dt.timedelta(seconds=seconds)
    return t.strftime("%H%M%S")


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    c = Dataset()
    c.CodeValue = value
    c.CodingSchemeDesignator = scheme
    c.CodeMeaning = meaning
    return c


def _study_level(study: StudyPlan, mb: ManifestBuilder) -> Dataset:
    """Patient, study and visit attributes shared by every file of a study."""
    pt, st = study.patient, study.staff
    date = study.date.strftime("%Y%m%d")
    ds = Dataset()
    if pt.charset:
        ds.SpecificCharacterSet = pt.charset
    ds.PatientName = pt.name.pn
    ds.PatientID = pt.mrn
    ds.IssuerOfPatientID = pt.issuer
    ds.PatientBirthDate = pt.birth_date.strftime("%Y%m%d")
    ds.PatientBirthTime = pt.birth_time
    ds.PatientSex = pt.sex
    ds.PatientAge = age_string(pt.birth_date, study.date)
    ds.PatientSize = f"{pt.size_m:.2f}"
    ds.PatientWeight = f"{pt.weight_kg:.1f}"
    ds.OtherPatientIDs = pt.national_id
    other = Dataset()
    other.PatientID = pt.national_id
    other.IssuerOfPatientID = "NATIONAL HEALTH REGISTRY"
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = Sequence([other])
    ds.OtherPatientNames = pt.other_name.pn
    ds.PatientMotherBirthName = pt.mother_birth_name.pn
    ds.PatientAddress = pt.address
    ds.PatientTelephoneNumbers = pt.phone
    ds.Occupation = pt.occupation
    ds.AdditionalPatientHistory = (
        f"Former smoker, 30 pack-years. Brother {pt.relative.given} {pt.relative.family} treated for lung cancer."
    )
    ds.PatientComments = f"Contact {pt.relative.plain} on {pt.phone} before results are released."
    ds.MedicalAlerts = f"Penicillin allergy - see chart {pt.mrn}"
    ds.CurrentPatientLocation = "Ward 4B, bed 12"
    ds.AdmissionID = study.admission_id

    ds.StudyInstanceUID = study.study_uid
    ds.StudyDate = date
    ds.StudyTime = study.time
    ds.AccessionNumber = study.accession
    issuer = Dataset()
    issuer.LocalNamespaceEntityID = st.pacs_name
    ds.IssuerOfAccessionNumberSequence = Sequence([issuer])
    ds.StudyID = study.study_id
    ds.StudyDescription = f"CT CHEST LOW DOSE - {pt.name.family.upper()} {pt.mrn}"
    ds.ReferringPhysicianName = st.referring.pn
    ds.ReferringPhysicianAddress = st.institution_address
    ds.ReferringPhysicianTelephoneNumbers = st.referring_phone
    ref = Dataset()
    ref.InstitutionName = st.institution
    ref.PersonAddress = st.institution_address
    ref.PersonTelephoneNumbers = st.referring_phone
    ref.PersonIdentificationCodeSequence = Sequence([_code(st.referring_id, "L", st.referring.plain)])
    ds.ReferringPhysicianIdentificationSequence = Sequence([ref])
    ds.PhysiciansOfRecord = st.referring.pn
    ds.NameOfPhysiciansReadingStudy = st.reading.pn
    ds.RequestingPhysician = st.requesting.pn
    ds.RequestingService = "Pulmonology outpatient clinic"

    request = Dataset()
    request.RequestedProcedureID = study.requested_procedure_id
    request.ScheduledProcedureStepID = f"SPS{study.requested_procedure_id[2:]}"
    request.ScheduledProcedureStepDescription = "CT chest low dose"
    request.RequestedProcedureDescription = f"CT chest for {pt.name.family}"
    request.ReasonForTheRequestedProcedure = f"Nodule follow-up, referred by {st.referring.plain}"
    request.AccessionNumber = study.accession
    request.IssuerOfAccessionNumberSequence = Sequence([issuer])
    request.RequestedProcedureCodeSequence = Sequence([_code("RPID17", "L", "CT CHEST WO CONTRAST")])
    ds.RequestAttributesSequence = Sequence([request])

    ds.PerformedProcedureStepID = f"PPS{study.requested_procedure_id[2:]}"
    ds.PerformedProcedureStepStartDate = date
    ds.PerformedProcedureStepStartTime = study.time
    ds.PerformedProcedureStepDescription = f"LDCT chest {pt.name.family}"
    pps = Dataset()
    pps.ReferencedSOPClassUID = MPPS_SOP_CLASS
    pps.ReferencedSOPInstanceUID = study.pps_uid
    ds.ReferencedPerformedProcedureStepSequence = Sequence([pps])
    comp = Dataset()
    comp.ReferencedSOPClassUID = STUDY_COMPONENT_SOP_CLASS
    comp.ReferencedSOPInstanceUID = study.study_component_uid
    ds.ReferencedStudySequence = Sequence([comp])
    ds.ProcedureCodeSequence = Sequence([_code("CTCHEST", "L", "CT CHEST")])

    ds.InstitutionName = st.institution
    ds.InstitutionAddress = st.institution_address
    ds.InstitutionalDepartmentName = st.department
    ds.StationName = st.station
    ds.DeviceSerialNumber = st.device_serial
    ds.Manufacturer = "Synthetica Medical"
    ds.ManufacturerModelName = "SynCT 64"
    ds.SoftwareVersions = "syn-4.2.1"
    ds.OperatorsName = st.operator.pn
    ds.PerformingPhysicianName = st.performing.pn

    _record_study(study, mb)
    return ds


def _record_study(study: StudyPlan, mb: ManifestBuilder) -> None:
    pt, st = study.patient, study.staff
    for person in (pt.name, pt.other_name, pt.mother_birth_name, pt.relative):
        mb.add(person.pn, "name", "patient")
        mb.add(person.plain, "name", "patient")
    for doc in (st.referring, st.reading, st.requesting, st.performing, st.operator):
        mb.add(doc.pn, "name", "staff")
        mb.add(doc.plain, "name", "staff")
    for value in (pt.mrn, pt.national_id, pt.phone, study.accession, study.admission_id, study.requested_procedure_id,
                  f"SPS{study.requested_procedure_id[2:]}", f"PPS{study.requested_procedure_id[2:]}", st.referring_id,
                  st.referring_phone, study.study_id):
        mb.add(value, "id")
    mb.add(pt.birth_date.strftime("%Y%m%d"), "birth_date", "(0010,0030)")
    mb.add(pt.address, "text", "(0010,1040)")
    mb.add(pt.occupation, "text", "(0010,2180)")
    mb.add(pt.issuer, "text", "(0010,0021)")
    for v in (st.institution, st.institution_address, st.department, st.pacs_name):
        mb.add(v, "institution")
    for v in (st.station, st.device_serial):
        mb.add(v, "device")
    mb.add(study.date.strftime("%Y%m%d"), "date", "study")
    mb.add(study.time, "time", "study")
    for uid in (study.study_uid, study.frame_of_reference_uid, study.pps_uid, study.study_component_uid):
        mb.add_uid(uid)


def _private_blocks(ds: Dataset, study: StudyPlan, series: SeriesPlan, mb: ManifestBuilder) -> None:
    pt = study.patient
    pacs = ds.private_block(0x0009, PRIVATE_CREATOR_PACS, create=True)
    pacs.add_new(0x01, "LO", pt.name.plain)
    pacs.add_new(0x02, "LO", pt.mrn)
    pacs.add_new(0x03, "DA", study.date.strftime("%Y%m%d"))
    pacs.add_new(0x04, "UI", study.study_uid)
    note = f"Archived by PACS for {pt.name.plain}, DOB {pt.birth_date:%d.%m.%Y}, tel {pt.phone}"
    pacs.add_new(0x05, "LT", note)
    inner = Dataset()
    inner.PatientName = pt.name.pn
    inner.add_new(0x00091010, "LO", PRIVATE_CREATOR_PACS)
    inner.add_new(0x00091001, "LO", f"{pt.mrn}^{study.accession}")
    pacs.add_new(0x06, "SQ", Sequence([inner]))
    scanner = ds.private_block(0x0029, PRIVATE_CREATOR_SCANNER, create=True)
    scanner.add_new(0x10, "OB", f"OPERATOR={study.staff.operator.plain};PATIENT={pt.name.pn};".encode() + b"\x00")
    scanner.add_new(0x11, "UN", f"ACC={study.accession}".encode())
    mb.add(note, "private", "(0009,xx05)")
    mb.add(f"{pt.mrn}^{study.accession}", "private", "(0009,xx06)>(0009,xx01)")
    mb.add(f"OPERATOR={study.staff.operator.plain};PATIENT={pt.name.pn};", "private", "(0029,xx10)")


def write_series(
    study: StudyPlan,
    series: SeriesPlan,
    case: GeneratedCase,
    folder: Path,
    mb: ManifestBuilder,
    *,
    siblings: tuple[SeriesPlan, ...] = (),
) -> list[Path]:
    """Write one file per slice of ``case`` into ``folder``; return the paths written."""
    geom = case.spec.geometry
    nz, ny, nx = geom.shape
    dz, dy, dx = geom.spacing
    x0, y0, z0 = geom.origin
    pt = study.patient
    date = study.date.strftime("%Y%m%d")
    series_time = _t(study.time, 240 + 30 * series.series_number)

    base = _study_level(study, mb)
    base.SOPClassUID = CTImageStorage
    base.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    base.Modality = "CT"
    base.SeriesInstanceUID = series.series_uid
    base.SeriesNumber = series.series_number
    base.SeriesDate = date
    base.SeriesTime = series_time
    base.AcquisitionDate = date
    base.ContentDate = date
    base.InstanceCreationDate = date
    base.SeriesDescription = f"AXIAL {series.kernel} {dz:g}MM - pt {pt.name.family}"
    base.ProtocolName = f"LDCT CHEST {study.staff.station}"
    base.BodyPartExamined = "CHEST"
    base.PatientPosition = "HFS"
    base.FrameOfReferenceUID = study.frame_of_reference_uid
    base.PositionReferenceIndicator = ""
    base.IrradiationEventUID = series.irradiation_event_uid
    base.AcquisitionNumber = 1
    base.ScanOptions = "HELICAL MODE"
    base.KVP = "120"
    base.SliceThickness = f"{dz:g}"
    base.SpacingBetweenSlices = f"{dz:g}"
    base.DataCollectionDiameter = "500"
    base.ReconstructionDiameter = f"{nx * dx:.1f}"
    base.GantryDetectorTilt = "0"
    base.TableHeight = f"{150.0 - y0 / 4.0:.1f}"
    base.RotationDirection = "CW"
    base.XRayTubeCurrent = 60
    base.ExposureTime = 500
    base.ConvolutionKernel = series.kernel
    base.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    base.SamplesPerPixel = 1
    base.PhotometricInterpretation = "MONOCHROME2"
    base.Rows = ny
    base.Columns = nx
    base.PixelSpacing = [f"{dy:g}", f"{dx:g}"]
    base.BitsAllocated = 16
    base.BitsStored = 16
    base.HighBit = 15
    base.PixelRepresentation = 1
    base.WindowCenter = "-600"
    base.WindowWidth = "1500"
    base.RescaleIntercept = f"{case.spec.rescale_intercept:g}"
    base.RescaleSlope = "1"
    base.RescaleType = "HU"
    if siblings:
        related = []
        for sib in siblings:
            item = Dataset()
            item.StudyInstanceUID = study.study_uid
            item.SeriesInstanceUID = sib.series_uid
            item.PurposeOfReferenceCodeSequence = Sequence([_code("121311", "DCM", "Localizer")])
            related.append(item)
        base.RelatedSeriesSequence = Sequence(related)
    _private_blocks(base, study, series, mb)

    mb.add(base.SeriesDescription, "text", "(0008,103E)")
    mb.add(base.StudyDescription, "text", "(0008,1030)")
    mb.add(base.ProtocolName, "text", "(0018,1030)")
    mb.add(base.PerformedProcedureStepDescription, "text", "(0040,0254)")
    mb.add(base.AdditionalPatientHistory, "text", "(0010,21B0)")
    mb.add(base.PatientComments, "text", "(0010,4000)")
    mb.add(base.MedicalAlerts, "text", "(0010,2000)")
    req = base.RequestAttributesSequence[0]
    mb.add(req.RequestedProcedureDescription, "text", "(0040,0275)>(0032,1060)")
    mb.add(req.ReasonForTheRequestedProcedure, "text", "(0040,0275)>(0040,1002)")
    mb.add(series_time, "time", "(0008,0031)")
    mb.add_uid(series.series_uid)
    mb.add_uid(series.irradiation_event_uid)

    sop_uids = [make_uid(0, series.series_uid, "sop", k) for k in range(nz)]
    first_uid = sop_uids[-1]
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for number, k in enumerate(range(nz - 1, -1, -1), start=1):
        ds = Dataset()
        ds.update(base)
        uid = sop_uids[k]
        ds.SOPInstanceUID = uid
        ds.InstanceNumber = number
        z = z0 + k * dz
        ds.ImagePositionPatient = [f"{x0:.3f}", f"{y0:.3f}", f"{z:.3f}"]
        ds.SliceLocation = f"{z:.3f}"
        t = _t(series_time, 0.5 * number)
        ds.AcquisitionTime = t
        ds.ContentTime = t
        ds.InstanceCreationTime = t
        ds.AcquisitionDateTime = f"{date}{t}.{number:06d}"
        ds.ImageComments = f"Pt {pt.name.plain}, DOB {pt.birth_date:%Y-%m-%d}, ref {study.staff.referring.plain}"
        if uid != first_uid:
            ref = Dataset()
            ref.ReferencedSOPClassUID = CTImageStorage
            ref.ReferencedSOPInstanceUID = first_uid
            ds.ReferencedImageSequence = Sequence([ref])
        ds.PixelData = np.ascontiguousarray(case.stored[k]).tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = uid
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
        meta.ImplementationVersionName = "PRACTICUM_CT_1"
        ds.file_meta = meta
        path = folder / f"IM{number:04d}.dcm"
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
        paths.append(path)
        mb.add_uid(uid)
        mb.add(t, "time", "(0008,0032)")
        mb.add(ds.AcquisitionDateTime, "datetime", "(0008,002A)")
        mb.add(ds.ImageComments, "text", "(0020,4000)")
    return paths
