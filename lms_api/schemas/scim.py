"""SCIM 2.0 (RFC 7643/7644) as the LMS speaks it: Users are people, Groups are teams, of one organisation."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from practicum.contracts.capabilities import RoleTarget

from .common import Name
from .people import Email

SCIM_CONTENT_TYPE = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
LMS_USER_SCHEMA = "urn:practicum:params:scim:schemas:extension:lms:1.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
CONFIG_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
MAX_RESULTS = 200


def _boolean(value: Any) -> Any:
    """Some identity providers send "True"/"False" as strings (Azure AD in PATCH values)."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


ScimBool = Annotated[bool, BeforeValidator(_boolean)]


class ScimModel(BaseModel):
    # Identity providers send attributes this LMS does not keep (name parts, phone numbers, ...): they
    # are ignored, as RFC 7644 lets a service provider do for attributes it does not support.
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class ScimEmail(ScimModel):
    value: Email
    primary: ScimBool = False


class LmsUserExtension(ScimModel):
    role_target: RoleTarget | None = Field(default=None, alias="roleTarget")


class UserIn(ScimModel):
    """A User as POSTed or PUT: `userName` is the JupyterHub user name (immutable once created)."""

    user_name: Name = Field(alias="userName")
    display_name: Name | None = Field(default=None, alias="displayName")
    emails: list[ScimEmail] = Field(default_factory=list, max_length=10)
    active: ScimBool = True
    lms: LmsUserExtension | None = Field(default=None, alias=LMS_USER_SCHEMA)

    def primary_email(self) -> str | None:
        chosen = next((e for e in self.emails if e.primary), self.emails[0] if self.emails else None)
        return chosen.value if chosen else None


class MemberRef(ScimModel):
    value: Annotated[
        str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v),
        Field(min_length=1, max_length=20, pattern=r"^[0-9]+$"),
    ]


class GroupIn(ScimModel):
    display_name: Name = Field(alias="displayName")
    members: list[MemberRef] = Field(default_factory=list, max_length=10_000)


class PatchOperation(ScimModel):
    op: Annotated[str, BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v), Field(pattern="^(add|remove|replace)$")]
    path: Annotated[str, Field(max_length=300)] | None = None
    value: Any = None


class PatchRequest(ScimModel):
    schemas: list[str] = Field(min_length=1)
    operations: list[PatchOperation] = Field(alias="Operations", min_length=1, max_length=1000)
