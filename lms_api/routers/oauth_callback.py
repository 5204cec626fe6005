"""End of the browser login: the hub redirects here with ?code=...&state=..."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from ..deps import HubClientDep, OAuthStatesDep, SettingsDep
from ..errors import ApiError
from ..oauth import set_token_cookie, state_cookie_name

router = APIRouter(tags=["auth"], include_in_schema=False)


@router.get("/oauth_callback")
async def finish_oauth_login(
    request: Request,
    settings: SettingsDep,
    hub: HubClientDep,
    states: OAuthStatesDep,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> RedirectResponse:
    if error:
        raise ApiError(400, "oauth_error", f"The hub refused the login: {error_description or error}")
    if not code or not state:
        raise ApiError(400, "oauth_missing_parameters", "The login callback needs both 'code' and 'state'.")
    if request.cookies.get(state_cookie_name(settings)) != state:
        raise ApiError(403, "oauth_state_mismatch", "This login was not started in this browser; try again.")
    pending = states.finish(state)
    if pending is None:
        raise ApiError(400, "oauth_state_expired", "This login took too long or was already used; try again.")
    token = await hub.exchange_code(code, pending.code_verifier)
    response = RedirectResponse(pending.next_url, status_code=302)
    set_token_cookie(response, token, request, settings)
    response.delete_cookie(state_cookie_name(settings), path=settings.service_prefix)
    return response
