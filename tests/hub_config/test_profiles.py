import pytest

from practicum.hub_config.profiles import (
    GPU_GROUP,
    ProfileLimits,
    build_profiles,
    detect_gpus,
    pick_profile,
    profiles_for,
)


def test_gpu_profile_exists_only_where_gpus_were_detected():
    assert [p.slug for p in build_profiles(gpus_available=False)] == ["cpu"]
    assert [p.slug for p in build_profiles(gpus_available=True)] == ["cpu", "gpu"]


def test_gpu_profile_is_offered_only_to_allowed_groups():
    profiles = build_profiles(gpus_available=True)
    assert [p.slug for p in profiles_for(profiles, [])] == ["cpu"]
    assert [p.slug for p in profiles_for(profiles, ["nbgrader-intro"])] == ["cpu"]
    assert [p.slug for p in profiles_for(profiles, [GPU_GROUP])] == ["cpu", "gpu"]


def test_gpu_groups_are_configurable():
    profiles = build_profiles(True, ProfileLimits(gpu_groups=("radiology-ml",)))
    assert [p.slug for p in profiles_for(profiles, [GPU_GROUP])] == ["cpu"]
    assert [p.slug for p in profiles_for(profiles, ["radiology-ml"])] == ["cpu", "gpu"]


def test_profiles_carry_their_limits():
    cpu, gpu = build_profiles(True, ProfileLimits(cpu_mem_limit="3G", gpu_cpu_limit=6, gpus_per_sandbox=2))
    assert (cpu.mem_limit, cpu.gpus) == ("3G", 0)
    assert (gpu.cpu_limit, gpu.gpus) == (6, 2)


def test_pick_profile_defaults_to_cpu_and_refuses_forbidden_or_unknown():
    profiles = build_profiles(True)
    assert pick_profile(profiles, [], None).slug == "cpu"
    assert pick_profile(profiles, [GPU_GROUP], "gpu").slug == "gpu"
    with pytest.raises(PermissionError, match="not available"):
        pick_profile(profiles, ["learners"], "gpu")
    with pytest.raises(ValueError, match="unknown sandbox profile"):
        pick_profile(profiles, [GPU_GROUP], "tpu")


def test_detect_gpus_reads_device_nodes(tmp_path, monkeypatch):
    monkeypatch.delenv("PRACTICUM_GPUS", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi
    for name in ("nvidia1", "nvidia0", "nvidiactl", "nvidia-uvm", "null"):
        (tmp_path / name).touch()
    assert detect_gpus(str(tmp_path)) == ["0", "1"]
    assert detect_gpus(str(tmp_path / "missing")) == []


def test_detect_gpus_override(monkeypatch):
    monkeypatch.setenv("PRACTICUM_GPUS", "2,3")
    assert detect_gpus() == ["2", "3"]
    monkeypatch.setenv("PRACTICUM_GPUS", "none")
    assert detect_gpus() == []
