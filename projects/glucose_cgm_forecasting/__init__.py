"""Glucose forecasting from CGM: forecast the sensor glucose 30 and 60 minutes ahead from the past only."""
