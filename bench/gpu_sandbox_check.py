"""Check, on a machine with NVIDIA GPUs, that a GPU sandbox sees exactly its own device
and a CPU sandbox sees none, using the lab's real bubblewrap command line.

Run: python bench/gpu_sandbox_check.py   (needs bwrap, torch with CUDA, and GPUs)
Prints one line per sandbox; exits 1 if a sandbox sees what it should not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from practicum.hub_config.gpu_pool import GPUPool
from practicum.hub_config.profiles import detect_gpus
from practicum.hub_config.sandbox import SandboxMounts, bubblewrap_command, bubblewrap_path

PROBE = """
import json, os, torch
available = torch.cuda.is_available()
report = {"visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"), "cuda": available,
          "count": torch.cuda.device_count() if available else 0}
if available:
    x = torch.randn(4096, 4096, device="cuda")
    report["matmul_ok"] = bool(torch.isfinite(x @ x).all().item())
    report["name"] = torch.cuda.get_device_name(0)
print(json.dumps(report))
"""


def run_in_sandbox(root: Path, user: str, gpus: list[str]) -> dict:
    home = root / "homes" / user
    for folder in (home, root / "public", root / "exchange", root / "etc"):
        folder.mkdir(parents=True, exist_ok=True)
    mounts = SandboxMounts(
        home_on_host=str(home),
        home=f"/home/{user}",
        public_datasets=str(root / "public"),
        exchange=str(root / "exchange"),
        jupyter_etc=str(root / "etc"),
        code_dirs=[sys.base_prefix, sys.prefix, *sys.path[1:]],
        gpu_devices=gpus,
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ",".join(gpus)}
    result = subprocess.run(
        bubblewrap_command(mounts, bwrap=bubblewrap_path()) + [sys.executable, "-c", PROBE],
        capture_output=True, text=True, env=env, timeout=300,
    )
    if result.returncode != 0:
        return {"error": result.stderr.strip()[-500:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    devices = detect_gpus()
    print(f"GPUs detected: {devices or 'none'}")
    pool = GPUPool(devices)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        cpu = run_in_sandbox(Path(tmp), "cpu-learner", [])
        print(f"CPU sandbox: {cpu}")
        failures += bool(cpu.get("error") or cpu.get("cuda"))
        for user in ("gpu-learner-1", "gpu-learner-2")[: len(devices)]:
            gpus = pool.acquire(user, 1)
            seen = run_in_sandbox(Path(tmp), user, gpus)
            print(f"GPU sandbox of {user} (device {gpus}): {seen}")
            failures += not (seen.get("cuda") and seen.get("count") == 1 and seen.get("matmul_ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
