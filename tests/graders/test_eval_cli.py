"""`practicum eval froc|glucose|risk` on files in the field's formats, against independent numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from practicum.cli import main

ANNOTATIONS = """seriesuid,coordX,coordY,coordZ,diameter_mm
s1,0,0,0,10
s1,50,50,50,6
s2,10,10,10,8
"""
# s1: a hit on the first nodule (0.9), a false positive (0.8), the second nodule missed;
# s2: a hit (0.7) and two candidates on the same nodule (one hit counted); s3: nothing.
CANDIDATES = """seriesuid,coordX,coordY,coordZ,probability
s1,1,1,1,0.9
s1,100,100,100,0.8
s2,10,11,10,0.7
s2,11,10,10,0.6
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def luna(tmp_path):
    (tmp_path / "annotations.csv").write_text(ANNOTATIONS)
    (tmp_path / "candidates.csv").write_text(CANDIDATES)
    (tmp_path / "series.csv").write_text("seriesuid\ns1\ns2\ns3\n")
    return tmp_path


def test_froc_json_matches_the_hand_worked_case(luna, capsys):
    code, out, _ = run(
        capsys, "eval", "froc", "--annotations", str(luna / "annotations.csv"), "--candidates", str(luna / "candidates.csv"),
        "--series", str(luna / "series.csv"), "--bootstrap", "200", "--json", "--plot", str(luna / "froc.png"),
    )
    assert code == 0
    result = json.loads(out)
    # 3 scans, 3 nodules. By probability: 0.9 hits s1's first nodule (1/3 at 0 FP), 0.8 is a false positive
    # (1/3 FP per scan), 0.7 hits s2's nodule (2/3 from 1/3 FP per scan on), 0.6 hits it again (not counted).
    expected = [1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3, 2 / 3]
    assert list(result["sensitivities"].values()) == pytest.approx(expected)
    assert result["cpm"] == pytest.approx(np.mean(expected))
    assert result["cpm_ci"][0] <= result["cpm"] <= result["cpm_ci"][1]
    assert result["n_bootstrap"] == 200
    assert (luna / "froc.png").read_bytes()[:4] == b"\x89PNG"


def test_froc_without_a_series_list_uses_the_files_scans(luna, capsys):
    code, out, _ = run(capsys, "eval", "froc", "--annotations", str(luna / "annotations.csv"), "--candidates",
                       str(luna / "candidates.csv"), "--bootstrap", "0", "--json")
    assert code == 0 and json.loads(out)["n_scans"] == 2


def test_froc_human_output_has_the_operating_points(luna, capsys):
    code, out, _ = run(capsys, "eval", "froc", "--annotations", str(luna / "annotations.csv"), "--candidates",
                       str(luna / "candidates.csv"), "--series", str(luna / "series.csv"), "--bootstrap", "0")
    assert code == 0 and "CPM 0.5714" in out and "0.125" in out


@pytest.mark.parametrize(
    ("candidates", "series", "message"),
    [
        (CANDIDATES + "s9,0,0,0,0.5\n", None, "candidates.csv, line 6: series 's9' is not one of the 3 evaluated series"),
        (CANDIDATES + "s1,0,0,,0.5\n", None, "candidates.csv, line 6: column coordZ: missing value (NaN)"),
        (CANDIDATES + "s1,1,1,1,0.3\n", None, "candidates.csv, line 6: duplicate entry"),
        ("seriesuid,x,y,z,probability\ns1,0,0,0,1\n", None, "candidates.csv, line 1: missing column(s) coordX, coordY, coordZ"),
        (CANDIDATES, "seriesuid,minX,maxX,minY,maxY,minZ,maxZ\ns1,-5,200,-5,200,-5,200\ns2,0,20,0,20,0,20\ns3,0,1,0,1,0,1\n", None),
        (CANDIDATES + "s2,300,10,10,0.1\n", "seriesuid,minX,maxX,minY,maxY,minZ,maxZ\ns1,-5,200,-5,200,-5,200\ns2,0,20,0,20,0,20\ns3,0,1,0,1,0,1\n",
         "candidates.csv, line 6: (300, 10, 10) mm lies outside series 's2'"),
    ],
)
def test_bad_candidate_files_name_the_line(luna, capsys, candidates, series, message):
    (luna / "candidates.csv").write_text(candidates)
    if series:
        (luna / "series.csv").write_text(series)
    code, _, err = run(capsys, "eval", "froc", "--annotations", str(luna / "annotations.csv"), "--candidates",
                       str(luna / "candidates.csv"), "--series", str(luna / "series.csv"), "--bootstrap", "0")
    if message is None:
        assert code == 0
    else:
        assert code == 2 and message in " ".join(err.split())


def test_froc_refuses_annotations_of_unlisted_series(luna, capsys):
    (luna / "series.csv").write_text("s1\ns3\n")  # LUNA16's plain list, no header
    code, _, err = run(capsys, "eval", "froc", "--annotations", str(luna / "annotations.csv"), "--candidates",
                       str(luna / "candidates.csv"), "--series", str(luna / "series.csv"))
    assert code == 2 and "annotations.csv, line 4: series 's2' is not in the series list" in err


def readings_block(patients=("p1", "p2"), n=60, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for pid in patients:
        t = pd.date_range("2024-03-01 06:00", periods=n, freq="5min")
        g = 140 + 40 * np.sin(np.arange(n) / 9) + rng.normal(0, 3, n)
        frames.append(pd.DataFrame({"patient_id": pid, "timestamp": t, "glucose_mg_dl": g.round(1)}))
    block = pd.concat(frames, ignore_index=True)
    block.loc[10, "glucose_mg_dl"] = np.nan  # a sensor gap
    return block


def forecasts(block: pd.DataFrame, horizon: int, shift: float) -> pd.DataFrame:
    last = block.groupby("patient_id")["glucose_mg_dl"].ffill()
    return pd.DataFrame({"patient_id": block["patient_id"], "timestamp": block["timestamp"], "horizon_min": horizon,
                         "predicted_mg_dl": (last + shift).round(2)})


def test_glucose_persistence_scores_as_persistence(tmp_path, capsys):
    block = readings_block()
    block.to_csv(tmp_path / "truth.csv", index=False)
    forecasts(block, 30, 0.0).to_csv(tmp_path / "pred.csv", index=False)
    code, out, _ = run(capsys, "eval", "glucose", "--truth", str(tmp_path / "truth.csv"), "--pred", str(tmp_path / "pred.csv"),
                       "--horizon", "30", "--json", "--plot", str(tmp_path / "clarke.png"))
    assert code == 0
    scores = json.loads(out)["horizons"][0]
    assert scores["rmse_vs_persistence"] == pytest.approx(1.0)
    # independent computation: origins from 60 min on with a reading 30 min later
    truth = block.dropna()
    expected = []
    for _pid, g in block.groupby("patient_id"):
        g = g.reset_index(drop=True)
        filled = g["glucose_mg_dl"].ffill()
        for i in range(12, len(g) - 6):
            if not np.isnan(g["glucose_mg_dl"][i + 6]):
                expected.append(g["glucose_mg_dl"][i + 6] - filled[i])
    assert scores["n_points"] == len(expected) and len(truth) < len(block)
    assert scores["rmse"] == pytest.approx(np.sqrt(np.mean(np.square(expected))))
    assert scores["mae"] == pytest.approx(np.mean(np.abs(expected)))
    assert sum(scores["clarke"].values()) == pytest.approx(100.0)
    assert (tmp_path / "clarke.png").exists()


def test_glucose_errors_name_the_problem(tmp_path, capsys):
    block = readings_block()
    block.to_csv(tmp_path / "truth.csv", index=False)
    partial = forecasts(block, 30, 0.0).iloc[:-20]
    partial.to_csv(tmp_path / "pred.csv", index=False)
    code, _, err = run(capsys, "eval", "glucose", "--truth", str(tmp_path / "truth.csv"), "--pred", str(tmp_path / "pred.csv"))
    assert code == 2 and "no 30-minute forecast for patient p2" in err
    shifted = forecasts(block, 30, 0.0)
    shifted.loc[3, "timestamp"] = pd.Timestamp("2024-03-01 06:02")
    shifted.to_csv(tmp_path / "pred.csv", index=False)
    code, _, err = run(capsys, "eval", "glucose", "--truth", str(tmp_path / "truth.csv"), "--pred", str(tmp_path / "pred.csv"))
    assert code == 2 and "pred.csv, line 5: patient p1 has no reading at 2024-03-01 06:02:00" in err


def test_risk_matches_scikit_learn(tmp_path, capsys):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, 200), 0, 1).round(4)
    ids = [f"p{i:03d}" for i in range(200)]
    pd.DataFrame({"patient_id": ids, "nephropathy_5y": y}).to_csv(tmp_path / "truth.csv", index=False)
    pd.DataFrame({"patient_id": ids[::-1], "probability": p[::-1]}).to_csv(tmp_path / "pred.csv", index=False)
    code, out, _ = run(capsys, "eval", "risk", "--truth", str(tmp_path / "truth.csv"), "--pred", str(tmp_path / "pred.csv"), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["auroc"] == pytest.approx(roc_auc_score(y, p))
    assert result["auprc"] == pytest.approx(average_precision_score(y, p))
    assert result["brier"] == pytest.approx(brier_score_loss(y, p))


def test_risk_errors_name_the_line(tmp_path, capsys):
    pd.DataFrame({"patient_id": ["a", "b", "c"], "label": [1, 0, ""]}).to_csv(tmp_path / "truth.csv", index=False)
    (tmp_path / "pred.csv").write_text("patient_id,probability\na,0.2\nb,NaN\n")
    code, _, err = run(capsys, "eval", "risk", "--truth", str(tmp_path / "truth.csv"), "--pred", str(tmp_path / "pred.csv"))
    assert code == 2 and "pred.csv, line 3: column probability: missing value (NaN)" in err
    (tmp_path / "pred.csv").write_text("patient_id,probability\na,0.2\nz,0.3\n")
    code, _, err = run(capsys, "eval", "risk", "--truth", str(tmp_path / "truth.csv"), "--pred", str(tmp_path / "pred.csv"))
    assert code == 2 and "pred.csv, line 3: patient 'z' is not in the evaluated cohort" in err
    (tmp_path / "pred.csv").write_text("patient_id,probability\na,0.2\n")
    code, _, err = run(capsys, "eval", "risk", "--truth", str(tmp_path / "truth.csv"), "--pred", str(tmp_path / "pred.csv"))
    assert code == 2 and "no probability for patient 'b'" in err


def test_glucose_in_mmol_per_litre_is_detected_converted_and_said(tmp_path, capsys):
    block = readings_block()
    pred = forecasts(block, 30, 25.0)
    block.to_csv(tmp_path / "truth.csv", index=False)
    pred.to_csv(tmp_path / "pred.csv", index=False)
    code, out, _ = run(capsys, "eval", "glucose", "--truth", str(tmp_path / "truth.csv"), "--pred", str(tmp_path / "pred.csv"), "--json")
    assert code == 0
    in_mg_dl = json.loads(out)
    mmol = block.assign(glucose_mg_dl=(block["glucose_mg_dl"] / 18.016).round(4))
    mmol.to_csv(tmp_path / "truth_mmol.csv", index=False)
    pred.assign(predicted_mg_dl=(pred["predicted_mg_dl"] / 18.016).round(4)).to_csv(tmp_path / "pred_mmol.csv", index=False)
    code, out, _ = run(capsys, "eval", "glucose", "--truth", str(tmp_path / "truth_mmol.csv"), "--pred", str(tmp_path / "pred_mmol.csv"), "--json")
    assert code == 0
    converted = json.loads(out)
    assert converted["units"] == {"truth": "mmol/L", "forecasts": "mmol/L"}
    assert in_mg_dl["units"] == {"truth": "mg/dL", "forecasts": "mg/dL"}
    for key in ("A", "B", "C", "D", "E"):
        assert converted["horizons"][0]["clarke"][key] == pytest.approx(in_mg_dl["horizons"][0]["clarke"][key])
    assert converted["horizons"][0]["rmse"] == pytest.approx(in_mg_dl["horizons"][0]["rmse"], rel=1e-3)
    assert in_mg_dl["horizons"][0]["clarke"]["A"] < 100.0  # the 25 mg/dL offset shows in mg/dL
    code, out, _ = run(capsys, "eval", "glucose", "--truth", str(tmp_path / "truth_mmol.csv"), "--pred", str(tmp_path / "pred_mmol.csv"))
    assert code == 0 and "truth in mmol/L (converted to mg/dL at 18.016 per mmol/L)" in out


def test_glucose_units_that_do_not_fit_are_refused(tmp_path, capsys):
    block = readings_block()
    block.to_csv(tmp_path / "truth.csv", index=False)
    pred = forecasts(block, 30, 0.0)
    pred.assign(predicted_mg_dl=(pred["predicted_mg_dl"] / 18.016).round(3)).to_csv(tmp_path / "pred.csv", index=False)
    code, _, err = run(capsys, "eval", "glucose", "--truth", str(tmp_path / "truth.csv"), "--pred", str(tmp_path / "pred.csv"),
                       "--units", "mg/dL")
    assert code == 2 and "pred.csv: forecasts (predicted_mg_dl) are meant to be mg/dL but look like mmol/L" in " ".join(err.split())
    mixed = pred.copy()
    mixed.loc[: len(mixed) // 2, "predicted_mg_dl"] /= 18.016
    mixed.to_csv(tmp_path / "pred.csv", index=False)
    code, _, err = run(capsys, "eval", "glucose", "--truth", str(tmp_path / "truth.csv"), "--pred", str(tmp_path / "pred.csv"))
    assert code == 2 and "mix units" in err
    pred.assign(predicted_mg_dl=-5.0).to_csv(tmp_path / "pred.csv", index=False)
    code, _, err = run(capsys, "eval", "glucose", "--truth", str(tmp_path / "truth.csv"), "--pred", str(tmp_path / "pred.csv"))
    assert code == 2 and "-5 is not a glucose value" in err
