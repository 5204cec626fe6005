"""Pixel data that may show PHI: such files are quarantined (not written) with the reason.

This tool never decodes or edits pixels, so it cannot remove burned-in text or faces; it
can only refuse to pass them on. A file is at risk when

* it says so: Burned In Annotation (0028,0301) is YES, or Recognizable Visual Features
  (0028,0302) is YES;
* it is of a SOP class whose images are typically screen captures, scanned documents,
  ultrasound frames with annotation or photographs (secondary capture, ultrasound,
  visible light, video) and does not say Burned In Annotation = NO.

Icon images and overlays are no reason: the profile removes them.

The options ``pixels_cleaned`` and ``recognizable_features_cleaned`` attest that the
pixels were cleaned beforehand and lift the corresponding quarantine.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from .options import DeidOptions

# SOP classes (prefixes end with a dot) whose pixels commonly hold burned-in text or faces.
BURNED_IN_TEXT_SOP_CLASSES: dict[str, str] = {
    "1.2.840.10008.5.1.4.1.1.7": "Secondary Capture",
    "1.2.840.10008.5.1.4.1.1.7.1": "Multi-frame Single Bit Secondary Capture",
    "1.2.840.10008.5.1.4.1.1.7.2": "Multi-frame Grayscale Byte Secondary Capture",
    "1.2.840.10008.5.1.4.1.1.7.3": "Multi-frame Grayscale Word Secondary Capture",
    "1.2.840.10008.5.1.4.1.1.7.4": "Multi-frame True Color Secondary Capture",
    "1.2.840.10008.5.1.4.1.1.6.1": "Ultrasound Image",
    "1.2.840.10008.5.1.4.1.1.6.2": "Enhanced US Volume",
    "1.2.840.10008.5.1.4.1.1.6": "Ultrasound Image (retired)",
    "1.2.840.10008.5.1.4.1.1.3.1": "Ultrasound Multi-frame Image",
    "1.2.840.10008.5.1.4.1.1.3": "Ultrasound Multi-frame Image (retired)",
    "1.2.840.10008.5.1.4.1.1.77.1.": "Visible Light (photograph, video, endoscopy, microscopy)",
}


def _sop_class_name(sop_class_uid: str) -> str | None:
    for uid, name in BURNED_IN_TEXT_SOP_CLASSES.items():
        if sop_class_uid == uid or (uid.endswith(".") and sop_class_uid.startswith(uid)):
            return name
    return None


def _flag(ds: Dataset, keyword: str) -> str:
    return str(ds.get(keyword, "") or "").strip().upper()


def pixel_phi_risk(ds: Dataset, options: DeidOptions) -> str | None:
    """Why the pixels of ``ds`` may show PHI (and the options do not cover it), or None."""
    burned_in = _flag(ds, "BurnedInAnnotation")
    if not options.pixels_cleaned:
        if burned_in == "YES":
            return "pixel PHI risk: Burned In Annotation (0028,0301) is YES (give pixels_cleaned once the text is removed)"
        name = _sop_class_name(str(ds.get("SOPClassUID", "") or ""))
        if name is not None and burned_in != "NO" and "PixelData" in ds:
            state = "missing" if not burned_in else repr(burned_in)
            return (f"pixel PHI risk: {name} images often carry burned-in text and Burned In Annotation is {state} "
                    "(give pixels_cleaned once checked)")
    if not options.recognizable_features_cleaned and _flag(ds, "RecognizableVisualFeatures") == "YES":
        return ("pixel PHI risk: Recognizable Visual Features (0028,0302) is YES "
                "(give recognizable_features_cleaned once removed)")
    return None


class Quarantined(Exception):
    """The file's pixels may show PHI; it is held back, not written. ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
