"""Fixtures of the attack suite: a private build with canaries, and the check that every attack left
the grader and everything stored as they were."""

from __future__ import annotations

import csv
import os
import secrets
import shutil
from pathlib import Path

import pytest
from harness import AttackBuild, leftover_cgroups, sandbox_processes, tree_digest

STATE_SKIP = ("public/lab-state/mlflow.db", "public/lab-state/mlartifacts")  # grows as gradings are recorded

@pytest.fixture(scope="session")
def attack_build(small_build: Path, tmp_path_factory: pytest.TempPathFactory) -> AttackBuild:
    """public/ and hidden/ of the glucose and EHR datasets, with a canary token planted in the hidden
    labels (an extra column of test_outcomes.csv, and a file of its own), the build's secrets and
    sources, and the lab's state folder; the state folder lives inside public/, which every grading
    sandbox binds, so only the grader's mask keeps it out. An MLflow run is recorded there first."""
    if not Path("/usr/bin/bwrap").exists():
        pytest.skip("bubblewrap is not installed")
    if os.geteuid() != 0:
        pytest.skip("the grading sandbox's two-stage confinement needs root")
    root = tmp_path_factory.mktemp("attack_build")
    token = f"CANARY-{secrets.token_hex(12)}"
    for part in ("public/cgm", "public/ehr_risk", "hidden/cgm", "hidden/ehr_risk"):
        shutil.copytree(small_build / part, root / part)
    outcomes = root / "hidden" / "ehr_risk" / "test_outcomes.csv"
    with outcomes.open(newline="") as handle:
        rows = list(csv.reader(handle))
    with outcomes.open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[0] + ["note"], *(row + [token] for row in rows[1:])])
    (root / "hidden" / "ehr_risk" / "canary_labels.csv").write_text(f"patient_id,label\n{token},1\n")
    for folder, name in (("secrets", "deid.key"), ("sources/ehr", "patients_with_phi.csv")):
        (root / folder).mkdir(parents=True)
        (root / folder / name).write_text(f"{token}\n")
    for path in [root / "hidden", root / "secrets", root / "sources", *root.joinpath("hidden").rglob("*"), *root.joinpath("secrets").rglob("*"), *root.joinpath("sources").rglob("*")]:
        path.chmod(0o700 if path.is_dir() else 0o600)  # root's only, as a build leaves them
    state = root / "public" / "lab-state"
    state.mkdir()
    (state / "lms.sqlite").write_text(f"grades {token}\n")
    uri = f"sqlite:///{state / 'mlflow.db'}"
    from mlflow.tracking import MlflowClient

    client = MlflowClient(uri)
    experiment = client.create_experiment("grading/attacked_project", artifact_location=(state / "mlartifacts").as_uri())
    prior = client.create_run(experiment, run_name="recorded before the attacks", tags={"practicum.learner": "ada"})
    client.log_metric(prior.info.run_id, "auroc", 0.8125)
    client.set_terminated(prior.info.run_id)
    patch = pytest.MonkeyPatch()
    patch.setenv("PRACTICUM_STATE_DIR", str(state))  # the grader hides the lab state from every sandbox
    yield AttackBuild(root=root, token=token, state_dir=state, tracking_uri=uri, prior_run_id=prior.info.run_id)
    patch.undo()


@pytest.fixture(scope="session")
def build_digest(attack_build: AttackBuild) -> str:
    return tree_digest(attack_build.root, skip=STATE_SKIP)


@pytest.fixture
def nothing_lost_nothing_left(attack_build: AttackBuild, build_digest: str, request: pytest.FixtureRequest):
    """After every attack: the build (hidden labels, secrets, lab state) is byte for byte as it was, the
    MLflow run recorded before is intact, and no sandbox process or cgroup is left behind."""
    yield
    allowed = frozenset(getattr(request.node, "grading_uid_canaries", ()))
    assert tree_digest(attack_build.root, skip=STATE_SKIP) == build_digest, "the attack changed stored files"
    from mlflow.tracking import MlflowClient

    prior = MlflowClient(attack_build.tracking_uri).get_run(attack_build.prior_run_id)
    assert prior.data.metrics == {"auroc": 0.8125} and prior.data.tags["practicum.learner"] == "ada"
    assert sandbox_processes(besides=allowed) == [], "sandboxed processes outlived their run"
    assert leftover_cgroups() == [], "a sandbox or scoring cgroup was left behind"
