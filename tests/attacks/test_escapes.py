"""Attacks on the sandbox's walls: the file system, other processes, namespaces, the network.

Each hostile model reports what it reached; the test holds the report against the host. Every test
also ends with the suite's check that nothing stored changed and no sandbox process or cgroup is left
(conftest.nothing_lost_nothing_left).
"""

from __future__ import annotations

import json
import os
import py_compile
import secrets
import socket
import subprocess
from importlib.util import cache_from_source
from pathlib import Path

import hostile_models as hostile
import pytest
from harness import attack, limits, project_spec, reported, save, texts_of_run

import practicum
from practicum.contracts.project_modules import MASKED_REFERENCE, reference_modules
from practicum.graders.grading_sandbox import PROJECTS_DIR, SandboxFailure
from practicum.graders.project_grading import grade_model
from practicum.sandbox.identity import GRADING_UID
from practicum.sandbox.readback import tree_hash

pytestmark = pytest.mark.usefixtures("nothing_lost_nothing_left")  # conftest: after each attack, all as it was

CHECKOUT = Path(practicum.__file__).resolve().parents[1]
FAILED = ("succeeded", "created", "connected", "delivered")


def test_remounts_read_only_bind_writable(attack_build, tmp_path):
    paths = ["/grading/model", str(attack_build.public), str(CHECKOUT / "practicum"), "/usr", "/etc", "/"]
    predictions = attack(hostile.RemountsReadOnlyBindWritable(paths=paths), attack_build, tmp_path)
    seen = reported(predictions)
    assert seen["wrote"] == []
    assert set(seen["mounts"].values()) == {"EPERM"}, seen["mounts"]
    assert tree_hash(tmp_path / "work" / "model") == predictions.code_hash  # the staged model is as it was copied


def test_unmounts_the_reference_mask(attack_build, tmp_path):
    references = list(reference_modules(PROJECTS_DIR))
    paths = [*references, "/etc/shadow", str(attack_build.state_dir)]
    seen = reported(attack(hostile.UnmountsTheReferenceMask(paths=paths), attack_build, tmp_path))
    assert set(seen["unmounts"].values()) == {"EPERM"}, seen["unmounts"]
    assert references and all(seen["contents"][p] == MASKED_REFERENCE.read_text() for p in references)
    assert seen["contents"]["/etc/shadow"] == ""


def test_reads_the_reference_bytecode(attack_build, tmp_path):
    """A host process that imported a reference (with bytecode writing on) left its .pyc next to the masked source."""
    made = []
    try:
        for source in reference_modules(PROJECTS_DIR):
            cached = Path(cache_from_source(source))
            if not cached.exists():
                py_compile.compile(source, cfile=str(cached), doraise=True)
                made.append(cached)
        paths = [cache_from_source(source) for source in reference_modules(PROJECTS_DIR)]
        seen = reported(attack(hostile.ReadsTheReferenceBytecode(paths=paths), attack_build, tmp_path))
    finally:
        for cached in made:
            cached.unlink()
            if not any(cached.parent.iterdir()):
                cached.parent.rmdir()
    assert paths and all(isinstance(found, str) for found in seen["found"].values()), seen["found"]
    assert "train_reference" not in json.dumps(seen)


def test_reads_git_history(attack_build, tmp_path):
    seen = reported(attack(hostile.ReadsGitHistory(checkout=str(CHECKOUT)), attack_build, tmp_path))
    head = subprocess.run(["git", "-C", str(CHECKOUT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert set(seen["direct"].values()) == {"<ENOENT>"}
    assert seen["found"] == []
    assert head and head not in json.dumps(seen) and "not a git repository" in seen["git"]


def test_reads_shadow_backups(attack_build, tmp_path):
    seen = reported(attack(hostile.ReadsShadowBackups(), attack_build, tmp_path))
    secret_lines = set()
    for name in ("shadow", "shadow-", "gshadow", "gshadow-"):
        if Path("/etc", name).exists():
            secret_lines |= {line for line in Path("/etc", name).read_text().splitlines() if len(line) > 4}
    text = json.dumps(seen)
    assert secret_lines and not any(line in text for line in secret_lines)
    for name in ("shadow", "shadow-", "gshadow", "gshadow-"):
        assert seen["contents"].get(f"/etc/{name}", "") == ""
    assert all(listing == [] or listing == "<ENOENT>" for listing in seen["listings"].values()), seen["listings"]


def test_reads_hidden_labels(attack_build, tmp_path):
    """Whatever it finds lands in its error: the grading record, MLflow run and result show none of the hidden bytes."""
    project = project_spec("complication_risk", targets=[{"metric": "auroc", "threshold": 0.5, "direction": "at_least", "reason": "test"}])
    model = save(hostile.ReadsHiddenLabels(), tmp_path / "model")
    result = grade_model(project, model, attack_build.root, tracking_uri=attack_build.tracking_uri, learner="mallory")
    assert result.error is not None and "the model failed during prediction" in result.error and "files outside the public data" in result.error
    assert not result.passed and result.score == 0.0
    recorded = "\n".join([
        result.error, json.dumps(result.to_json()), result.to_grade_result(learner="mallory").to_json(),
        texts_of_run(attack_build.tracking_uri, result.mlflow_run_id),
    ])
    assert attack_build.token not in recorded
    assert "retinopathy_date" not in recorded  # a column only the hidden outcomes have


def test_reads_lab_state(attack_build, tmp_path):
    seen = reported(attack(hostile.ReadsLabState(state_dir=str(attack_build.state_dir)), attack_build, tmp_path))
    assert seen["found"][str(attack_build.state_dir)] == {}  # the mask: an empty folder
    assert seen["found"]["umount"] == "EPERM"
    assert attack_build.token not in json.dumps(seen)


def test_writes_outside_its_tmp(attack_build, tmp_path):
    """It may write its own tmpfs folders (/tmp, /dev/shm), nothing else: not /dev, not a host folder bound under /tmp."""
    seen = reported(attack(hostile.WritesOutsideItsTmp(token=secrets.token_hex(8)), attack_build, tmp_path, limits=limits(seconds=60)))
    assert seen["folders"] > 1000 and seen["files"] > 10000  # it did look everywhere

    def its_own(path: str) -> bool:
        in_tmpfs = path in ("/tmp", "/dev/shm") or path.startswith(("/tmp/", "/dev/shm/"))
        return in_tmpfs and not path.startswith(str(attack_build.root))

    assert [d for d in seen["writable_dirs"] if not its_own(d)] == []
    assert [f for f in seen["writable_files"] if not its_own(f)] == []
    assert "/tmp" in seen["writable_dirs"]  # the probe works: its own /tmp is writable


def test_creates_user_namespace(attack_build, tmp_path):
    tried = reported(attack(hostile.CreatesUserNamespace(), attack_build, tmp_path))["tried"]
    assert not any(outcome in FAILED for outcome in tried.values()), tried
    assert tried["unshare(NEWUSER)"] == "EPERM" and tried["clone(NEWUSER)"] == "EPERM" and tried["clone3"] == "ENOSYS"


def test_mounts_a_file_system(attack_build, tmp_path):
    seen = reported(attack(hostile.MountsAFileSystem(), attack_build, tmp_path))
    assert set(seen["tried"].values()) == {"EPERM"}, seen["tried"]
    assert seen["mounted"] == []


def test_ptraces_its_parent(attack_build, tmp_path):
    tried = reported(attack(hostile.PtracesItsParent(), attack_build, tmp_path))["tried"]
    assert not any(outcome in FAILED for outcome in tried.values()), tried


def test_kills_everything(attack_build, tmp_path, request):
    """kill(-1) reaches only its own sandbox: a host process of the same uid (another grading's) lives on."""
    neighbour = subprocess.Popen(["/bin/sleep", "60"], user=GRADING_UID, group=GRADING_UID, extra_groups=[])
    request.node.grading_uid_canaries = {neighbour.pid}
    try:
        with pytest.raises(SandboxFailure, match=r"the sandboxed prediction stopped \(") as failure:
            attack(hostile.KillsEverything(), attack_build, tmp_path)
        assert "kill(1, SIGKILL): EPERM" in str(failure.value)
        assert neighbour.poll() is None, "kill(-1) in a sandbox killed a host process"
    finally:
        neighbour.kill()
        neighbour.wait()


def test_keeps_state_across_calls(attack_build, tmp_path):
    inputs = {"first": hostile.pd.DataFrame({"call": ["first"]}), "second": hostile.pd.DataFrame({"call": ["second"]})}
    predictions = attack(hostile.KeepsStateAcrossCalls(), attack_build, tmp_path, inputs=inputs)
    first, second = reported(predictions, "first"), reported(predictions, "second")
    assert "/tmp/practicum-state" in first["written"]  # it did leave state behind
    assert first["seen"] == {} and second["seen"] == {}, second["seen"]


@pytest.fixture
def grader_listeners():
    """Loopback listeners of the grader's own: TCP (IPv4 and IPv6), UDP and an abstract Unix socket."""
    tcp4 = socket.create_server(("127.0.0.1", 0))
    tcp6 = socket.create_server(("::1", 0), family=socket.AF_INET6)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    name = f"practicum-attack-{secrets.token_hex(6)}"
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    abstract.bind(b"\0" + name.encode())
    abstract.listen(1)
    sockets = [tcp4, tcp6, udp, abstract]
    for s in sockets:
        s.setblocking(False)
    yield {"tcp": [tcp4.getsockname()[1], tcp6.getsockname()[1]], "udp": [udp.getsockname()[1]], "abstract": [name], "sockets": sockets}
    for s in sockets:
        s.close()


def test_reaches_loopback_services(attack_build, tmp_path, grader_listeners):
    services = [port for port in (5432, 6379, 5672, 3306) if _listening(port)]
    unix_paths = [p for p in ("/run/mysqld/mysqld.sock", "/var/run/postgresql/.s.PGSQL.5432", "/tmp/.s.PGSQL.5432", "/run/redis/redis-server.sock") if os.path.exists(p)]
    model = hostile.ReachesLoopbackServices(
        tcp_ports=[*services, *grader_listeners["tcp"]], udp_ports=grader_listeners["udp"], unix_paths=unix_paths,
        abstract_names=grader_listeners["abstract"],
    )
    seen = reported(attack(model, attack_build, tmp_path))
    assert not any(outcome == "connected" for outcome in seen["reached"].values()), seen["reached"]
    assert seen["interfaces"] == ["lo"]
    for listener in grader_listeners["sockets"]:
        with pytest.raises(BlockingIOError):
            listener.accept() if listener.type == socket.SOCK_STREAM else listener.recv(100)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_opens_vsock(attack_build, tmp_path):
    tried = reported(attack(hostile.OpensVsock(), attack_build, tmp_path))["tried"]
    assert set(tried.values()) <= {"EAFNOSUPPORT", "EPERM"}, tried


def test_an_honest_model_is_still_predicted_after_these_attacks(attack_build, tmp_path):
    assert reported(attack(hostile.HonestReport(), attack_build, tmp_path)) == {"rows": 1}
