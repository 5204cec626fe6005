import pytest
from jupyterhub.authenticators.shared import SharedPasswordAuthenticator
from oauthenticator.generic import GenericOAuthenticator
from traitlets.config import Config

from practicum.hub_config.auth import configure_shared_password, configure_sso
from practicum.hub_config.settings import SSOSettings

SSO = SSOSettings(
    client_id="practicum",
    client_secret="s3cret",
    authorize_url="https://sso.example.org/auth",
    token_url="https://sso.example.org/token",
    userdata_url="https://sso.example.org/userinfo",
    callback_url="https://lab.example.org/hub/oauth_callback",
    allowed_groups=("ai-academy",),
    admin_groups=("lab-admins",),
)


def test_shared_password_configures_a_real_authenticator():
    c = Config()
    configure_shared_password(c, user_password="learner-pass", admin_password="a" * 32, admin_users=["admin"])
    auth = SharedPasswordAuthenticator(config=c)
    assert auth.user_password == "learner-pass"
    assert auth.admin_users == {"admin"}


@pytest.mark.parametrize(("user", "admin"), [("short", "a" * 32), ("long-enough", "too-short")])
def test_weak_passwords_are_refused(user, admin):
    with pytest.raises(ValueError):
        configure_shared_password(Config(), user_password=user, admin_password=admin, admin_users=["admin"])


def test_sso_settings_apply_to_generic_oauthenticator():
    c = Config()
    configure_sso(c, SSO)
    assert c.JupyterHub.authenticator_class == "generic-oauth"
    auth = GenericOAuthenticator(config=c)
    assert auth.client_id == "practicum"
    assert auth.token_url == "https://sso.example.org/token"
    assert auth.allowed_groups == {"ai-academy"}
    assert auth.admin_groups == {"lab-admins"}
    assert auth.manage_groups is True
    assert auth.auth_state_groups_key == "oauth_user.groups"
    assert auth.username_claim == "preferred_username"
