"""Jupyter configuration inside every learner's server (mounted at /srv/practicum/jupyter-config).

Learners get nbgrader's assignment list (fetch, submit, validate); the instructor
tools (formgrader, create-assignment) are switched off in their servers, as the
nbgrader docs advise for multi-user setups.
"""

from __future__ import annotations

import json
from pathlib import Path

_INSTRUCTOR_LAB_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment")


def singleuser_config_files(exchange_root: str) -> dict[str, str]:
    """File name (relative to the config folder) -> content."""
    server_config = {
        "ServerApp": {
            "jpserver_extensions": {
                "nbgrader.server_extensions.formgrader": False,
                "nbgrader.server_extensions.assignment_list": True,
                "nbgrader.server_extensions.course_list": False,
                "nbgrader.server_extensions.validate_assignment": True,
            }
        }
    }
    page_config = {"disabledExtensions": {name: True for name in _INSTRUCTOR_LAB_PLUGINS}}
    nbgrader_config = "\n".join(
        [
            "# Written by practicum: nbgrader inside a learner's sandbox.",
            "from nbgrader.auth import JupyterHubAuthPlugin",
            "c = get_config()  # noqa: F821",
            f"c.Exchange.root = {exchange_root!r}",
            "c.Exchange.path_includes_course = True",
            "c.Authenticator.plugin_class = JupyterHubAuthPlugin",
            "",
        ]
    )
    return {
        "jupyter_server_config.json": json.dumps(server_config, indent=2),
        "labconfig/page_config.json": json.dumps(page_config, indent=2),
        "nbgrader_config.py": nbgrader_config,
    }


def write_singleuser_config(folder: Path, exchange_root: str) -> None:
    for name, content in singleuser_config_files(exchange_root).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
