"""JupyterHub configuration of the embedded lab; `practicum up` passes it to the hub.

It only sets values: the settings file written by the lab, applied by the shared
functions of practicum.hub_config.
"""

import os

from practicum.hub_config.local import configure_local
from practicum.hub_config.settings import SETTINGS_ENV, HubSettings

c = get_config()  # noqa: F821 (provided by JupyterHub)
configure_local(c, HubSettings.load(os.environ[SETTINGS_ENV]))
