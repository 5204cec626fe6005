"""Is each service of a running lab answering?"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import httpx

from .processes import pid_alive
from .state import LabState, ServiceEndpoint


@dataclass(frozen=True)
class ServiceHealth:
    name: str
    url: str
    healthy: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def check_endpoint(endpoint: ServiceEndpoint, state: LabState, token: str, timeout: float = 3.0) -> ServiceHealth:
    try:
        if endpoint.hub_service:
            return _check_hub_service(endpoint, state, token, timeout)
        response = httpx.get(endpoint.health_url, timeout=timeout)
    except httpx.HTTPError as exc:
        return ServiceHealth(endpoint.name, endpoint.url, False, f"no answer: {type(exc).__name__}")
    healthy = response.status_code == 200
    return ServiceHealth(endpoint.name, endpoint.url, healthy, f"HTTP {response.status_code}")


def _check_hub_service(endpoint: ServiceEndpoint, state: LabState, token: str, timeout: float) -> ServiceHealth:
    response = httpx.get(
        f"{state.hub_api_url}/services/{endpoint.hub_service}",
        headers={"Authorization": f"token {token}"},
        timeout=timeout,
    )
    if response.status_code != 200:
        return ServiceHealth(endpoint.name, endpoint.url, False, f"hub API answered HTTP {response.status_code}")
    pid = response.json().get("pid") or 0
    if pid and pid_alive(pid):
        return ServiceHealth(endpoint.name, endpoint.url, True, f"running (pid {pid})")
    return ServiceHealth(endpoint.name, endpoint.url, False, "not running")


def check_lab(state: LabState, token: str) -> list[ServiceHealth]:
    return [check_endpoint(endpoint, state, token) for endpoint in state.services]
