"""The "C" (clean) action for descriptive text: keep only words known to carry no identity.

Free text is split into words; a word survives only if it is in a fixed vocabulary of
imaging terms (body parts, techniques, contrast, kernels, phases, ...) or is a small
measurement with a decimal point or a unit (``2.5``, ``1.25MM``, ``120KV``; a bare
integer such as ``30`` or ``1`` is dropped). Everything else - names, numbers that could be
identifiers or dates, places - is dropped. The result is upper case with single spaces;
it may be empty. This errs towards losing descriptive detail rather than leaking.
"""

from __future__ import annotations

import re

VOCABULARY = frozenset(
    """
    CT CTA MR MRI PET SPECT XR CR DX US NM RT SR KO PR SEG REG
    CHEST THORAX THORACIC LUNG LUNGS PULMONARY ABDOMEN ABDOMINAL PELVIS PELVIC HEAD NECK BRAIN SPINE CARDIAC HEART
    CORONARY AORTA AORTIC MEDIASTINUM MEDIASTINAL LIVER KIDNEY RENAL WHOLE BODY EXTREMITY UPPER LOWER LEFT RIGHT
    BILATERAL AIRWAY AIRWAYS BRONCHI TRACHEA PLEURA PLEURAL RIB RIBS
    LOW HIGH STANDARD DOSE LDCT HRCT RESOLUTION HELICAL SPIRAL SEQUENTIAL AXIAL CORONAL SAGITTAL OBLIQUE MIP MINIP
    MPR VR 3D 2D RECON RECONSTRUCTION REFORMAT REFORMATS SOFT TISSUE BONE LUNG SHARP SMOOTH KERNEL DETAIL
    W WO WITH WITHOUT W/O W/ W/WO AND OR OF FOR NO NON CONTRAST IV ORAL PLAIN NATIVE ENHANCED UNENHANCED
    ARTERIAL VENOUS PORTAL DELAYED LATE EARLY PHASE PRE POST
    SCREENING FOLLOW UP FOLLOW-UP FU NODULE NODULES MASS LESION PROTOCOL ROUTINE STUDY SERIES EXAM EXAMINATION
    SCOUT TOPOGRAM LOCALIZER LOCALISER SURVIEW SCANOGRAM AP PA LAT LATERAL INSPIRATION EXPIRATION INSPIRATORY
    EXPIRATORY BREATH HOLD PRONE SUPINE THIN THICK SLICE SLICES ADULT PEDIATRIC PAEDIATRIC ANGIO ANGIOGRAPHY
    PE EMBOLISM EMPHYSEMA INTERSTITIAL ILD CANCER ONCOLOGY STAGING METASTASES INFECTION PNEUMONIA COVID
    DERIVED PRIMARY SECONDARY ORIGINAL SUMMARY DOSE-REPORT REPORT MM CM KV KVP MA MAS S SEC
    """.split()
)

_MEASURE = re.compile(r"^(\d{1,2}\.\d{1,2}(MM|CM|KV|KVP|MA|MAS|S)?|\d{1,3}(MM|CM|KV|KVP|MA|MAS))$")
_SPLIT = re.compile(r"[\s,;:|_^=+()\[\]{}\"'<>#*\\]+")


def clean_text(value: str, max_length: int | None = None) -> str:
    """Vocabulary-cleaned, upper-case ``value`` (possibly empty), cut to ``max_length``."""
    kept = []
    for word in _SPLIT.split(value.upper()):
        word = word.strip(".-/")
        if not word:
            continue
        if word in VOCABULARY or _MEASURE.match(word):
            kept.append(word)
    text = " ".join(kept)
    if max_length is not None and len(text) > max_length:
        text = text[:max_length].rsplit(" ", 1)[0]
    return text
