"""`practicum up | down | status | demo`: thin wrappers over practicum.lab and practicum.demo."""

from __future__ import annotations

import argparse
import json
import signal
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from practicum.lab.courses import load_catalog
from practicum.lab.health import ServiceHealth, check_lab
from practicum.lab.secrets import load_or_create_secrets
from practicum.lab.settings import LabSettings, Ports
from practicum.lab.state import LabState, read_state

console = Console(highlight=False, soft_wrap=True)


def _settings_from(args: argparse.Namespace) -> LabSettings:
    settings = LabSettings.from_env(
        state_dir=Path(args.state_dir) if args.state_dir else None,
        datasets_dir=Path(args.datasets) if getattr(args, "datasets", None) else None,
        sandbox=getattr(args, "sandbox", None),
    )
    port = getattr(args, "port", None)
    if port:
        settings = replace(settings, ports=Ports.from_base(port))
    return settings


def _warn_without_datasets(settings: LabSettings) -> None:
    folder = settings.public_datasets_dir
    found = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
    if not found:
        build = folder.parent if settings.datasets_dir else settings.layout.root / "datasets"
        console.print(
            f"[yellow]note:[/yellow] no datasets in {folder}: sandboxes get an empty /datasets and nothing can be graded. "
            f"Build them with `make datasets` (or `practicum datasets build --size small --out {build}`)."
        )
    elif not (folder.parent / "hidden").is_dir():
        console.print(f"[yellow]note:[/yellow] {folder.parent} has no hidden/ test split: learners' submissions cannot be graded.")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_up(args: argparse.Namespace) -> int:
    from practicum.lab.up import serve_lab, start_lab

    settings = _settings_from(args)
    started = time.monotonic()
    _warn_without_datasets(settings)
    # SIGTERM while starting (`practicum down`, a timeout) unwinds start_lab, which stops what it started.
    signal.signal(signal.SIGTERM, _interrupt)
    with console.status("Starting the lab ...") as status:

        def progress(name: str, health: ServiceHealth | None, seconds: float) -> None:
            if health is not None:
                console.print(f"  [green]✓[/green] {name:<28} ready after {seconds:5.1f} s")
            else:
                status.update(f"Starting the lab ... waiting for {name} ({seconds:.0f} s)")

        lab = start_lab(settings, progress)
    _print_welcome(lab.state, settings, time.monotonic() - started)
    serve_lab(lab)
    console.print("Lab stopped.")
    return 0


def _print_welcome(state: LabState, settings: LabSettings, seconds: float) -> None:
    secrets = load_or_create_secrets(settings.layout.secrets_file)
    console.print(f"\n[bold]Practicum lab is up[/bold] after {seconds:.1f} s ({state.sandbox} sandboxes)\n")
    console.print(f"  JupyterHub   {state.public_url}/hub/")
    console.print(f"  MLflow       {state.mlflow_url}")
    console.print(f"  LMS API      {state.public_url}/services/lms/docs")
    console.print(f"  Grading      {state.public_url}/services/grading/submissions  (practicum submit, feedback pages)")
    courses = load_catalog(settings.courses_dir)
    for course in courses:
        console.print(f"  Formgrader   {state.public_url}/services/formgrader-{course.course_id}/  ({course.course_id})")
    console.print("\n[bold]First login[/bold]")
    console.print(f"  Open {state.public_url} and sign in with any user name and the lab password: "
                  f"[bold]{secrets.user_password}[/bold]")
    console.print(f"  Administrators: user 'admin' with the admin password in {settings.layout.secrets_file}")
    for course in courses:
        if course.instructors:
            console.print(f"  Instructors of {course.course_id}: {', '.join(course.instructors)} (lab password)")
    console.print("  Learners join a course's assignment list through the hub group nbgrader-<course>.")
    console.print("\nStop with Ctrl-C or `practicum down`.")


def cmd_down(args: argparse.Namespace) -> int:
    from practicum.lab.down import stop_lab

    console.print(stop_lab(_settings_from(args).layout.root))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = _settings_from(args)
    state = read_state(settings.layout.lab_file)
    if state is None:
        if args.json:
            print(json.dumps({"running": False, "healthy": False, "services": []}))
        else:
            console.print(f"No lab is running from {settings.layout.root}.")
        return 1
    token = load_or_create_secrets(settings.layout.secrets_file).lab_api_token
    health = check_lab(state, token)
    healthy = all(h.healthy for h in health)
    if args.json:
        print(json.dumps({"running": True, "healthy": healthy, "services": [h.to_dict() for h in health]}, indent=2))
    else:
        for h in health:
            mark = "[green]✓[/green]" if h.healthy else "[red]✗[/red]"
            console.print(f"{mark} {h.name:<28} {h.url:<60} {h.detail}")
    return 0 if healthy else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from practicum.demo import run_demo, timed

    result = run_demo(_settings_from(args), say=timed(console.print))
    console.print(f"\n[bold green]Demo complete[/bold green]: sandbox spawned in {result.spawn_seconds:.1f} s, "
                  f"MLflow run {result.mlflow_run_id}.")
    return 0


def add_lab_commands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    up = sub.add_parser("up", parents=[common], help="start the lab and keep it running until Ctrl-C",
                        description="Start MLflow, JupyterHub, the LMS, the formgraders and the idle culler, "
                        "wait until all answer, print the URLs and the first-login password, then hold.")
    _add_lab_options(up)
    up.set_defaults(func=cmd_up)

    down = sub.add_parser("down", parents=[common], help="stop a running lab and every process it started")
    down.set_defaults(func=cmd_down)

    status = sub.add_parser("status", parents=[common], help="health of each service (exit 0 only if all healthy)")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(func=cmd_status)

    demo = sub.add_parser("demo", parents=[common], help="scripted end-to-end walk through the lab",
                          description="Uses the running lab, or starts one for the walk and stops it after.")
    _add_lab_options(demo)
    demo.set_defaults(func=cmd_demo)


def _add_lab_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, help="public port (default 8000); the other ports follow it")
    parser.add_argument("--datasets", help="folder of public dataset splits to mount read-only in sandboxes")
    parser.add_argument("--sandbox", choices=["auto", "bubblewrap", "none"],
                        help="isolation of learner servers (default auto: bubblewrap where installed)")
