"""Code systems used by the exports: ICD-10(-CM) diagnoses, LOINC labs, and the drug list."""

from __future__ import annotations

ICD10 = {
    "E10.9": "Type 1 diabetes mellitus without complications",
    "E10.65": "Type 1 diabetes mellitus with hyperglycemia",
    "E10.649": "Type 1 diabetes mellitus with hypoglycemia without coma",
    "E10.10": "Type 1 diabetes mellitus with ketoacidosis without coma",
    "E10.319": "Type 1 diabetes mellitus with unspecified diabetic retinopathy without macular edema",
    "E10.21": "Type 1 diabetes mellitus with diabetic nephropathy",
    "E10.22": "Type 1 diabetes mellitus with diabetic chronic kidney disease",
    "E11.9": "Type 2 diabetes mellitus without complications",
    "E11.65": "Type 2 diabetes mellitus with hyperglycemia",
    "E11.649": "Type 2 diabetes mellitus with hypoglycemia without coma",
    "E11.319": "Type 2 diabetes mellitus with unspecified diabetic retinopathy without macular edema",
    "E11.21": "Type 2 diabetes mellitus with diabetic nephropathy",
    "E11.22": "Type 2 diabetes mellitus with diabetic chronic kidney disease",
    "H36.0": "Diabetic retinopathy (ICD-10 WHO)",
    "I10": "Essential (primary) hypertension",
    "E78.5": "Hyperlipidemia, unspecified",
    "E78.00": "Pure hypercholesterolemia, unspecified",
    "E66.9": "Obesity, unspecified",
    "N18.2": "Chronic kidney disease, stage 2 (mild)",
    "N18.3": "Chronic kidney disease, stage 3 (moderate)",
    "N18.4": "Chronic kidney disease, stage 4 (severe)",
    "N18.5": "Chronic kidney disease, stage 5",
    "F17.210": "Nicotine dependence, cigarettes, uncomplicated",
    "Z87.891": "Personal history of nicotine dependence",
    "J18.9": "Pneumonia, unspecified organism",
    "L03.90": "Cellulitis, unspecified",
    "N39.0": "Urinary tract infection, site not specified",
    "I50.9": "Heart failure, unspecified",
}

# test -> (LOINC, unit)
LABS = {
    "HbA1c": ("4548-4", "%"),
    "LDL cholesterol": ("13457-7", "mg/dL"),
    "HDL cholesterol": ("2085-9", "mg/dL"),
    "Total cholesterol": ("2093-3", "mg/dL"),
    "Triglycerides": ("2571-8", "mg/dL"),
    "Creatinine": ("2160-0", "mg/dL"),
    "eGFR (CKD-EPI 2021)": ("98979-8", "mL/min/1.73m2"),
    "Urine albumin/creatinine ratio": ("9318-7", "mg/g"),
    "Glucose": ("2345-7", "mg/dL"),
}

# drug -> (dose, route, frequency)
DRUGS = {
    "insulin glargine": ("{units} units", "subcutaneous", "once daily"),
    "insulin lispro": ("per carbohydrate ratio", "subcutaneous", "with meals"),
    "insulin lispro (pump)": ("basal {rate} U/h", "subcutaneous infusion", "continuous"),
    "metformin": ("1000 mg", "oral", "twice daily"),
    "empagliflozin": ("10 mg", "oral", "once daily"),
    "semaglutide": ("1 mg", "subcutaneous", "once weekly"),
    "atorvastatin": ("40 mg", "oral", "once daily"),
    "lisinopril": ("20 mg", "oral", "once daily"),
    "losartan": ("50 mg", "oral", "once daily"),
    "amlodipine": ("5 mg", "oral", "once daily"),
}


def ckd_stage_code(egfr: float, uacr: float) -> str | None:
    """ICD-10-CM chronic kidney disease stage from eGFR (with albuminuria for stage 2)."""
    if egfr < 15:
        return "N18.5"
    if egfr < 30:
        return "N18.4"
    if egfr < 60:
        return "N18.3"
    if egfr < 90 and uacr >= 30:
        return "N18.2"
    return None


def creatinine_from_egfr(egfr: float, age: float, female: bool) -> float:
    """Serum creatinine (mg/dl) that the race-free CKD-EPI 2021 equation maps to ``egfr``.

    Inker LA et al. "New creatinine- and cystatin C-based equations to estimate GFR
    without race." N Engl J Med 2021;385:1737-1749.
    """
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    scale = 142.0 * 0.9938**age * (1.012 if female else 1.0)
    ratio = (egfr / scale) ** (-1.0 / 1.200)
    if ratio < 1.0:
        ratio = (egfr / scale) ** (1.0 / alpha)
    return kappa * ratio


def egfr_ckd_epi_2021(creatinine: float, age: float, female: bool) -> float:
    """eGFR (ml/min/1.73 m2) by the race-free CKD-EPI 2021 creatinine equation."""
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    r = creatinine / kappa
    return 142.0 * min(r, 1.0) ** alpha * max(r, 1.0) ** -1.200 * 0.9938**age * (1.012 if female else 1.0)
