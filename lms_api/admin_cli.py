"""Admin commands (`practicum lms ...`, `python -m practicum.lms_api admin ...`): thin wrappers over services.

Each command works directly on the LMS database ($PRACTICUM_LMS_DATABASE_URL or --database-url),
migrating it first, and prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .db.engine import Database
from .db.migrate import upgrade_database
from .db.types import utcnow
from .errors import ApiError
from .outbound import check_registration
from .schemas.organisations import OrganisationCreate
from .schemas.people import PersonCreate, PersonUpdate
from .schemas.profiles import InterviewImport
from .schemas.webhooks import EventType, WebhookCreate
from .services import catalog, organisations, people, tokens, webhooks
from .services.evidence import import_interview
from .settings import get_settings
from .tokens import Scope

ACTOR = "cli:admin"


def _session_command(work: Callable[[Session, argparse.Namespace], dict[str, Any]]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        url = args.database_url or get_settings().database_url
        try:
            upgrade_database(url)
        except SQLAlchemyError as exc:
            message = f"cannot open the LMS database {make_url(url).render_as_string(hide_password=True)}: {exc.orig or exc}"
            print(json.dumps({"error": {"code": "database_unavailable", "message": message}}), file=sys.stderr)
            return 1
        db = Database(url)
        try:
            with db.write() as session:
                output = work(session, args)
                session.commit()
        except ApiError as exc:
            print(json.dumps({"error": {"code": exc.code, "message": exc.message}}), file=sys.stderr)
            return 1
        except ValidationError as exc:
            print(json.dumps({"error": {"code": "invalid_input", "message": str(exc)}}), file=sys.stderr)
            return 1
        finally:
            db.dispose()
        print(json.dumps(output, indent=2, default=str))
        return 0

    return run


def _org_create(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    org = organisations.create_organisation(session, data=OrganisationCreate(slug=args.slug, name=args.name or args.slug))
    return {"id": org.id, "slug": org.slug, "name": org.name}


def _organisation_id(session: Session, slug: str | None) -> int | None:
    if slug is None:
        return None
    org = organisations.organisation_by_slug(session, slug=slug)
    if org is None:
        raise ApiError(422, "unknown_organisation", f"No organisation '{slug}'.")
    return org.id


def _person_create(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    data = PersonCreate(
        name=args.name, display_name=args.display_name, organisation_id=_organisation_id(session, args.organisation),
        role_target=args.role_target, roles=args.role or ["learner"],
    )
    person = people.create_person(session, data=data)
    return people.to_public(session, [person])[0].model_dump(mode="json")


def _person_update(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    """Place a person (organisation, team, role target), rename or (de)activate them: how a hub user
    who signed in before being provisioned joins an organisation."""
    person = people.person_by_name(session, name=args.name)
    if person is None:
        raise ApiError(404, "not_found", f"No person {args.name!r}.")
    changes: dict[str, Any] = {}
    organisation_id = person.organisation_id
    if args.no_organisation:
        organisation_id = None
        changes.update(organisation_id=None, team_id=None)
    elif args.organisation is not None:
        organisation_id = _organisation_id(session, args.organisation)
        changes["organisation_id"] = organisation_id
        if organisation_id != person.organisation_id:
            changes["team_id"] = None  # a team belongs to one organisation
    if args.no_team:
        changes["team_id"] = None
    elif args.team is not None:
        if organisation_id is None:
            raise ApiError(422, "team_needs_organisation", "Give the person an organisation first (--organisation).")
        changes["team_id"] = organisations.team_by_name(session, organisation_id=organisation_id, name=args.team,
                                                        create=True).id
    if args.role_target is not None:
        changes["role_target"] = None if args.role_target == "none" else args.role_target
    if args.display_name is not None:
        changes["display_name"] = args.display_name
    if args.active is not None:
        changes["active"] = args.active
    if args.role:
        changes["roles"] = args.role
    person = people.update_person(session, person=person, data=PersonUpdate.model_validate(changes))
    return people.to_public(session, [person])[0].model_dump(mode="json")


def _token_create(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    row, token = tokens.create_token(
        session, name=args.name, scopes=[Scope(s) for s in args.scope],
        organisation_id=_organisation_id(session, args.organisation), created_by=ACTOR,
    )
    return {"id": row.id, "name": row.name, "scopes": row.scopes.split(), "organisation_id": row.organisation_id,
            "token": token, "note": "shown only now; store it in a secret store"}


def _token_revoke(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    row = tokens.revoke_token(session, token_id=args.token_id, now=utcnow())
    return {"id": row.id, "revoked_at": row.revoked_at}


def _profile_import(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    data = InterviewImport.model_validate_json(Path(args.file).read_text(encoding="utf-8"))
    person, evidence, changes = import_interview(
        session, data=data, allowed_organisation_id=None, actor=ACTOR, now=utcnow()
    )
    return {"person_id": person.id, "evidence_id": evidence.id,
            "changes": [{"dimension": c.dimension, "before": c.before, "after": c.after} for c in changes]}


def _catalog_sync(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    return catalog.sync_catalog(session, catalog=catalog.load_catalog_file(Path(args.file))).model_dump()


def _webhook_add(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    org_id = _organisation_id(session, args.organisation)
    check_registration(args.url, get_settings().webhook_allowed_hosts)
    hook, secret = webhooks.create_webhook(
        session, organisation_id=org_id or 0, data=WebhookCreate(url=args.url, events=args.event or ["profile.changed"])
    )
    return {"id": hook.id, "organisation_id": hook.organisation_id, "url": hook.url, "secret": secret}


def _outbox_deliver(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    del args
    with httpx.Client(timeout=10, follow_redirects=False, trust_env=False) as http:
        allowed = get_settings().webhook_allowed_hosts
        return webhooks.deliver_due(session, http, utcnow(), allowed_hosts=allowed).model_dump()


def add_lms_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the LMS admin commands (org, person, token, profile, catalog, webhook, outbox) to a CLI."""

    def command(parent: Any, name: str, help_text: str, work: Callable[[Session, argparse.Namespace], dict[str, Any]]) -> Any:
        parser = parent.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--database-url", help="default: $PRACTICUM_LMS_DATABASE_URL")
        parser.set_defaults(func=_session_command(work))
        return parser

    def group(name: str, help_text: str) -> Any:
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        return parser.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")

    org = group("org", "organisations")
    p = command(org, "create", "create an organisation", _org_create)
    p.add_argument("slug")
    p.add_argument("--name")

    person = group("person", "people")
    p = command(person, "create", "create a person (a JupyterHub user name)", _person_create)
    p.add_argument("name")
    p.add_argument("--display-name")
    p.add_argument("--organisation", help="organisation slug")
    p.add_argument("--role-target", choices=["algorithm_engineer", "clinical_ai_product_manager", "clinician"])
    p.add_argument("--role", action="append", choices=["learner", "instructor", "hr", "grader", "admin"])

    p = command(person, "update", "place a person (organisation, team, role target) or (de)activate them",
                _person_update)
    p.add_argument("name", help="the JupyterHub user name")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--organisation", help="organisation slug (moving leaves the old team)")
    where.add_argument("--no-organisation", action="store_true", help="take the person out of their organisation")
    team = p.add_mutually_exclusive_group()
    team.add_argument("--team", help="team name in the person's organisation (created if new)")
    team.add_argument("--no-team", action="store_true")
    p.add_argument("--role-target", choices=["algorithm_engineer", "clinical_ai_product_manager", "clinician", "none"])
    p.add_argument("--display-name")
    state = p.add_mutually_exclusive_group()
    state.add_argument("--active", dest="active", action="store_true", default=None)
    state.add_argument("--inactive", dest="active", action="store_false")
    p.add_argument("--role", action="append", choices=["learner", "instructor", "hr", "grader", "admin"],
                   help="replace the person's roles (repeat)")

    token = group("token", "scoped API tokens for machine clients")
    p = command(token, "create", "create a token (printed once)", _token_create)
    p.add_argument("name")
    p.add_argument("--scope", action="append", required=True, choices=[s.value for s in Scope])
    p.add_argument("--organisation", help="organisation slug (required for hr:* scopes)")
    p = command(token, "revoke", "revoke a token", _token_revoke)
    p.add_argument("token_id", type=int)

    profile = group("profile", "capability profiles")
    p = command(profile, "import", "import an HR interview assessment (JSON)", _profile_import)
    p.add_argument("file")

    cat = group("catalog", "the course and project catalog")
    p = command(cat, "sync", "create or update courses and items from a YAML file", _catalog_sync)
    p.add_argument("file", nargs="?", default=str(catalog.SEED_CATALOG))

    hook = group("webhook", "webhooks to HR")
    p = command(hook, "add", "subscribe a URL to an organisation's events (prints the signing secret)", _webhook_add)
    p.add_argument("organisation", help="organisation slug")
    p.add_argument("url")
    p.add_argument("--event", action="append", choices=[e.value for e in EventType])

    outbox = group("outbox", "the webhook outbox")
    command(outbox, "deliver", "deliver due webhook events now", _outbox_deliver)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m practicum.lms_api admin", description=__doc__)
    add_lms_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result
