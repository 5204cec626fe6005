"""Free-text clinical notes that mention PHI the way real notes do.

Each writer returns the note text plus the dates and ages it mentions, so the manifest can
record exactly what was planted. Dates appear in the many formats clinicians type.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from .identities import Identity

DATE_STYLES = ("%m/%d/%Y", "%-m/%-d/%Y", "%Y-%m-%d", "%B %-d, %Y", "%b %-d, %Y", "%-d %B %Y", "%d-%b-%Y")


def format_date(d: dt.date, style: str) -> str:
    """strftime with the glibc-only ``%-d`` spelled portably."""
    out = style.replace("%-m", str(d.month)).replace("%-d", str(d.day))
    return d.strftime(out)


@dataclass
class NoteFacts:
    """What one patient's notes mention (filled while writing)."""

    dates: set[dt.date] = field(default_factory=set)
    ages: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class Visit:
    date: dt.date
    kind: str  # outpatient | inpatient | emergency
    discharge: dt.date
    provider: tuple[str, str]
    reason: str
    hba1c: float | None
    sbp: int
    dbp: int
    bmi: float


@dataclass(frozen=True)
class PatientContext:
    ident: Identity
    birth_date: dt.date
    diabetes_type: int
    onset_year: int
    smoking: str
    medications: tuple[str, ...]
    device_serials: tuple[str, ...]


class NoteWriter:
    """Writes notes for one patient, remembering the dates and ages it mentions."""

    def __init__(self, rng: np.random.Generator, ctx: PatientContext) -> None:
        self.rng = rng
        self.ctx = ctx
        self.facts = NoteFacts()

    def date(self, d: dt.date) -> str:
        self.facts.dates.add(d)
        return format_date(d, str(self.rng.choice(DATE_STYLES)))

    def age(self, on: dt.date) -> str:
        b = self.ctx.birth_date
        years = on.year - b.year - ((on.month, on.day) < (b.month, b.day))
        self.facts.ages.add(years)
        return str(years)

    def _pronoun(self) -> tuple[str, str, str]:
        return ("she", "her", "Ms.") if self.ctx.ident.sex == "F" else ("he", "his", "Mr.")

    def _smoking(self) -> str:
        return {
            "current": "Current smoker, about half a pack per day; cessation counselling given.",
            "former": "Former smoker, quit several years ago.",
            "never": "Never smoker.",
        }[self.ctx.smoking]

    def progress_note(self, v: Visit, previous: Visit | None) -> str:
        c, p = self.ctx, self.ctx.ident
        she, her, title = self._pronoun()
        prev = (
            f"Last HbA1c {previous.hba1c:.1f} % on {self.date(previous.date)}"
            if previous is not None and previous.hba1c is not None
            else "No prior HbA1c on file"
        )
        today = f"today {v.hba1c:.1f} %" if v.hba1c is not None else "HbA1c pending"
        employer = f" and works at {p.employer}" if p.employer else ""
        lines = [
            "ENDOCRINOLOGY PROGRESS NOTE",
            f"Patient: {p.full_name}    MRN: {p.mrn}    DOB: {self.date(c.birth_date)}",
            f"Date of service: {self.date(v.date)}",
            f"Attending: Dr. {v.provider[1]}",
            "",
            f"{p.first_name} {p.last_name} is a {self.age(v.date)}-year-old {'woman' if p.sex == 'F' else 'man'} with "
            f"type {c.diabetes_type} diabetes mellitus diagnosed in {c.onset_year}, seen for routine follow-up. "
            f"{she.capitalize()} lives at {p.street_address} in {p.city}{employer}.",
            f"{prev}; {today}. Blood pressure {v.sbp}/{v.dbp} mmHg, BMI {v.bmi:.1f}.",
            self._smoking(),
            f"Medications reviewed: {', '.join(c.medications) or 'none'}.",
            "Plan: continue current regimen, repeat HbA1c in 3 months, annual dilated eye examination.",
            f"{title} {p.last_name} can be reached at {p.phone} or {p.email}. Emergency contact: "
            f"{p.emergency_contact_relation} {p.emergency_contact_name}, {p.emergency_contact_phone}.",
            f"Electronically signed by {v.provider[0]} {v.provider[1]}, MD on {self.date(v.date)}.",
        ]
        return "\n".join(lines)

    def discharge_summary(self, v: Visit) -> str:
        p = self.ctx.ident
        she, her, title = self._pronoun()
        return "\n".join(
            [
                "DISCHARGE SUMMARY",
                f"Name: {p.last_name.upper()}, {p.first_name}   MRN {p.mrn}   Acct# {p.account_number}",
                f"Admitted: {self.date(v.date)}   Discharged: {self.date(v.discharge)}",
                f"Admitting diagnosis: {v.reason}",
                "",
                f"Hospital course: {title} {p.last_name} ({self.age(v.date)} y/o) was admitted on {self.date(v.date)} "
                f"with {v.reason.lower()}. {she.capitalize()} was treated and improved. {her.capitalize()} "
                f"{p.emergency_contact_relation}, {p.emergency_contact_name}, was at the bedside and can be reached "
                f"at {p.emergency_contact_phone}.",
                f"Insurance: {p.payer}, member ID {p.health_plan_id}.",
                f"Discharged home to {p.street_address}, {p.city}, {p.state} {p.zip5} on {self.date(v.discharge)}.",
                f"Follow-up with Dr. {v.provider[1]} in two weeks.",
            ]
        )

    def telephone_note(self, on: dt.date, nurse: tuple[str, str]) -> str:
        p = self.ctx.ident
        issue = str(self.rng.choice(["low glucose readings overnight", "a prescription refill", "sick-day rules",
                                     "high readings after dinner", "a question about the sensor adhesive"]))
        fax = f" Copy of the plan faxed to the patient's home fax {p.fax}." if p.fax else ""
        return (
            f"Telephone encounter {self.date(on)}: {p.first_name} {p.last_name} called from {p.phone} about {issue}. "
            f"Portal message also received via {p.portal_url} (last login from IP {p.last_login_ip}).{fax} "
            f"Advice given per protocol. -- {nurse[0]} {nurse[1]}, RN"
        )

    def registration_note(self, on: dt.date) -> str:
        p, c = self.ctx.ident, self.ctx
        devices = "; ".join(f"device serial {s}" for s in c.device_serials[:2])
        devices = f" Diabetes devices registered: {devices}." if devices else ""
        return (
            f"Registration update on {self.date(on)} for {p.full_name} (MRN {p.mrn}, age {self.age(on)}). "
            f"SSN {p.ssn} verified against driver's license {p.drivers_license}. Photo on file: {p.photo_file}; "
            f"fingerprint enrolment {p.biometric_id}. Parking validation for vehicle plate {p.vehicle_plate}.{devices} "
            f"Billing account {p.account_number}; health plan {p.payer} {p.health_plan_id}."
        )

    def referral_letter(self, on: dt.date, to: tuple[str, str], signer: tuple[str, str], hba1c: float | None) -> str:
        p, c = self.ctx.ident, self.ctx
        a1c = f" Most recent HbA1c {hba1c:.1f} %." if hba1c is not None else ""
        return "\n".join(
            [
                self.date(on),
                f"Re: {p.full_name}, DOB {self.date(c.birth_date)}, MRN {p.mrn}",
                f"Dear Dr. {to[1]},",
                f"I am referring {p.first_name}, aged {self.age(on)}, with type {c.diabetes_type} diabetes since "
                f"{c.onset_year}, for a dilated retinal examination.{a1c} Please send your report to our clinic.",
                "Sincerely,",
                f"{signer[0]} {signer[1]}, MD",
            ]
        )
