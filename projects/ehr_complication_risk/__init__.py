"""ehr_complication_risk: five-year diabetic retinopathy risk from the de-identified EHR (features, reference, baseline)."""
