"""Who is acting, as the LMS sees it: a person (through the hub) or a scoped machine token."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ApiError


@dataclass(frozen=True)
class Principal:
    actor: str  # for the audit log: "user:alice", "token:7", "service:grader"
    name: str
    person_id: int | None = None
    is_admin: bool = False
    scopes: frozenset[str] = frozenset()
    organisation_id: int | None = None  # set for organisation-bound (HR) tokens
    token_id: int | None = None

    def can(self, scope: str) -> bool:
        return self.is_admin or scope in self.scopes

    def require(self, scope: str) -> None:
        if not self.can(scope):
            raise ApiError(403, "missing_scope", f"This needs the '{scope}' scope (or admin).")

    def require_admin(self) -> None:
        if not self.is_admin:
            raise ApiError(403, "admin_required", "Only administrators may do this.")

    def org_scope(self, scope: str) -> int | None:
        """The organisation an HR scope is bound to, or None for admins; 403 if the scope is missing."""
        if self.is_admin:
            return None
        if scope not in self.scopes or self.organisation_id is None:
            raise ApiError(403, "missing_scope", f"This needs the '{scope}' scope of an organisation (or admin).")
        return self.organisation_id
