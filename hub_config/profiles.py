"""Sandbox profiles (CPU, GPU): which exist, who may pick them, what each one gets.

One list of profiles serves both paths: the local spawner turns it into an options
form, the Kubernetes path into KubeSpawner's ``profile_list``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

GPU_GROUP = "gpu-users"


@dataclass(frozen=True)
class Profile:
    slug: str
    display_name: str
    description: str
    cpu_limit: float
    mem_limit: str
    gpus: int = 0
    # None: every user may pick it; otherwise only members of one of these groups.
    allowed_groups: tuple[str, ...] | None = None
    default: bool = False

    def allows(self, user_groups: Iterable[str]) -> bool:
        if self.allowed_groups is None:
            return True
        return bool(set(self.allowed_groups) & set(user_groups))


@dataclass(frozen=True)
class ProfileLimits:
    cpu_cpu_limit: float = 2.0
    cpu_mem_limit: str = "4G"
    gpu_cpu_limit: float = 8.0
    gpu_mem_limit: str = "32G"
    gpus_per_sandbox: int = 1
    gpu_groups: tuple[str, ...] = field(default=(GPU_GROUP,))


def build_profiles(gpus_available: bool, limits: ProfileLimits = ProfileLimits()) -> list[Profile]:
    """The sandbox profiles of a lab; the GPU profile only where GPUs exist."""
    profiles = [
        Profile(
            slug="cpu",
            display_name="CPU sandbox",
            description=f"{limits.cpu_cpu_limit:g} CPUs, {limits.cpu_mem_limit} memory",
            cpu_limit=limits.cpu_cpu_limit,
            mem_limit=limits.cpu_mem_limit,
            default=True,
        )
    ]
    if gpus_available:
        profiles.append(
            Profile(
                slug="gpu",
                display_name="GPU sandbox",
                description=(
                    f"{limits.gpus_per_sandbox} GPU, {limits.gpu_cpu_limit:g} CPUs, "
                    f"{limits.gpu_mem_limit} memory"
                ),
                cpu_limit=limits.gpu_cpu_limit,
                mem_limit=limits.gpu_mem_limit,
                gpus=limits.gpus_per_sandbox,
                allowed_groups=tuple(limits.gpu_groups),
            )
        )
    return profiles


def profiles_for(profiles: Sequence[Profile], user_groups: Iterable[str]) -> list[Profile]:
    """The profiles one user may choose, in order."""
    groups = list(user_groups)
    return [p for p in profiles if p.allows(groups)]


def pick_profile(profiles: Sequence[Profile], user_groups: Iterable[str], slug: str | None) -> Profile:
    """The profile a user asked for, or their default; refuses one they may not use."""
    allowed = profiles_for(profiles, user_groups)
    if not allowed:
        raise PermissionError("no sandbox profile is available to this user")
    if slug is None:
        return next((p for p in allowed if p.default), allowed[0])
    for profile in allowed:
        if profile.slug == slug:
            return profile
    if any(p.slug == slug for p in profiles):
        raise PermissionError(f"sandbox profile {slug!r} is not available to this user")
    raise ValueError(f"unknown sandbox profile {slug!r}")


_NVIDIA_DEVICE = re.compile(r"^nvidia(\d+)$")


def detect_gpus(dev_dir: str = "/dev") -> list[str]:
    """Indices of the NVIDIA GPUs of this machine ('0', '1', ...), empty when none.

    ``PRACTICUM_GPUS`` ("0,1" or "none") overrides detection.
    """
    override = os.environ.get("PRACTICUM_GPUS")
    if override is not None:
        return [] if override.strip() in ("", "none") else [g.strip() for g in override.split(",")]
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout
            return [line.strip() for line in out.splitlines() if line.strip()]
        except (subprocess.SubprocessError, OSError):
            pass
    try:
        names = os.listdir(dev_dir)
    except OSError:
        return []
    found = [m.group(1) for n in names if (m := _NVIDIA_DEVICE.match(n))]
    return sorted(found, key=int)
