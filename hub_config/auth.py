"""Who may log in: a shared password for a first try, the company's SSO for real use."""

from __future__ import annotations

from collections.abc import Sequence

from traitlets.config import Config

from .settings import SSOSettings

MIN_ADMIN_PASSWORD = 32  # SharedPasswordAuthenticator refuses shorter admin passwords
MIN_USER_PASSWORD = 8


def configure_shared_password(
    c: Config, *, user_password: str, admin_password: str, admin_users: Sequence[str]
) -> None:
    """Anyone with the lab's password may log in under any name; admins use their own password."""
    if len(user_password) < MIN_USER_PASSWORD:
        raise ValueError(f"the user password must have at least {MIN_USER_PASSWORD} characters")
    if len(admin_password) < MIN_ADMIN_PASSWORD:
        raise ValueError(f"the admin password must have at least {MIN_ADMIN_PASSWORD} characters")
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = user_password
    c.SharedPasswordAuthenticator.admin_password = admin_password
    c.Authenticator.admin_users = set(admin_users)
    c.Authenticator.allow_all = True


def configure_sso(c: Config, sso: SSOSettings) -> None:
    """GenericOAuthenticator against an OpenID Connect provider (Keycloak, Entra ID, Okta...).

    Group membership comes from the provider's ``groups`` claim and is synced into
    hub groups, so the course and GPU groups can be managed in the company directory.
    """
    c.JupyterHub.authenticator_class = "generic-oauth"
    g = c.GenericOAuthenticator
    g.client_id = sso.client_id
    g.client_secret = sso.client_secret
    g.authorize_url = sso.authorize_url
    g.token_url = sso.token_url
    g.userdata_url = sso.userdata_url
    g.oauth_callback_url = sso.callback_url
    g.scope = list(sso.scope)
    g.username_claim = sso.username_claim
    g.auth_state_groups_key = f"oauth_user.{sso.groups_claim}"
    g.manage_groups = True
    if sso.allowed_groups:
        g.allowed_groups = set(sso.allowed_groups)
    else:
        g.allow_all = True
    if sso.admin_groups:
        g.admin_groups = set(sso.admin_groups)
