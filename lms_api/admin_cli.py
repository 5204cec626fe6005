"""Admin commands (`practicum lms ...`, `python -m practicum.lms_api admin ...`): thin wrappers over services.

Each command works directly on the LMS database ($PRACTICUM_LMS_DATABASE_URL or --database-url),
migrating it first, and prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from .badge_keys import KeyFileError, load_public_keys
from .badge_status import StatusUnavailable, fetch_revocation_list
from .badge_verify import MAX_CREDENTIAL_CHARS, verify_badge
from .db.engine import Database
from .db.migrate import upgrade_database
from .db.types import utcnow
from .errors import ApiError
from .outbound import check_registration
from .scheduled import scheduled_round
from .schemas.organisations import OrganisationCreate
from .schemas.people import PersonCreate, PersonUpdate
from .schemas.profiles import InterviewImport
from .schemas.webhooks import EventType, WebhookCreate
from .services import badges, catalog, organisations, people, tokens, webhooks
from .services.erasure import erase_person, export_person
from .services.evidence import import_interview
from .services.reminders import list_reminders
from .services.retention import apply_retention
from .settings import get_settings
from .tokens import Scope

ACTOR = "cli:admin"


def _database_command(work: Callable[[Database, argparse.Namespace], dict[str, Any]]) -> Callable[[argparse.Namespace], int]:
    """The command on the LMS database (migrated first); errors are one JSON line on stderr."""

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
            output = work(db, args)
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


def _session_command(work: Callable[[Session, argparse.Namespace], dict[str, Any]]) -> Callable[[argparse.Namespace], int]:
    """The command in one transaction, committed when it returns."""

    def on_database(db: Database, args: argparse.Namespace) -> dict[str, Any]:
        with db.write() as session:
            output = work(session, args)
            session.commit()
        return output

    return _database_command(on_database)


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


def _person_named(session: Session, name: str) -> Any:
    person = people.person_by_name(session, name=name)
    if person is None:
        raise ApiError(404, "not_found", f"No person {name!r}.")
    return person


def _person_export(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    document = export_person(session, person=_person_named(session, args.name))
    if args.output:
        Path(args.output).write_text(json.dumps(document, indent=1, ensure_ascii=False, default=str), encoding="utf-8")
        return {"written": args.output, "tables": {k: len(v) for k, v in document["tables"].items()}}
    return document


def _person_erase(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    report = erase_person(session, person=_person_named(session, args.name), confirm=args.confirm,
                          keep_records=args.keep_records, actor=ACTOR)
    return report.to_json()


def _reminders_run(db: Database, args: argparse.Namespace) -> dict[str, Any]:
    try:
        now = datetime.fromisoformat(args.now) if args.now else None
    except ValueError as exc:
        raise ApiError(422, "invalid_time", f"--now {args.now!r} is not an ISO time (2026-12-01T09:00:00+00:00)") from exc
    if now is not None and now.tzinfo is None:
        raise ApiError(422, "invalid_time", "--now needs a time zone (for example +00:00)")
    return scheduled_round(db, replace(get_settings(), database_url=db.url), now)


def _reminders_list(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    rows = list_reminders(session, status=args.status, person_id=None, limit=args.limit, offset=0)
    return {"reminders": [{"key": r.key, "channel": r.channel, "status": r.status, "attempts": r.attempts,
                           "created_at": r.created_at, "last_error": r.last_error} for r in rows]}


def _retention_apply(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    del args
    settings = get_settings()
    return apply_retention(session, audit_days=settings.audit_retention_days,
                           delivery_days=settings.delivery_retention_days, now=utcnow())


def _badge_list(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    person = _person_named(session, args.name)
    return {"badges": [badges.badge_public(b) for b in badges.person_badges(session, person_id=person.id)]}


def _badge_revoke(session: Session, args: argparse.Namespace) -> dict[str, Any]:
    badge = badges.revoke_badge(session, badge_id=args.badge_id, reason=args.reason, now=utcnow())
    return {k: v for k, v in badges.badge_public(badge).items() if k != "credential"}


def badge_verify(args: argparse.Namespace) -> int:
    """`badge verify FILE`: exit 0 valid (and not revoked), 1 not valid or revoked, 2 unusable input."""
    settings = get_settings()
    try:
        key_path = Path(args.public_key) if args.public_key else settings.badge_key_path
        keys = load_public_keys(key_path)
        token = Path(args.file).read_text(encoding="utf-8", errors="replace")[: MAX_CREDENTIAL_CHARS + 1]
    except (KeyFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    token = _credential_text(token)
    allowed = frozenset(args.allow_host or ()) | settings.webhook_allowed_hosts
    fetch = (lambda url: fetch_revocation_list(url, allowed_hosts=allowed)) if args.online else None
    try:
        verdict = verify_badge(token, keys, fetch_status=fetch)
    except (StatusUnavailable, ValueError) as exc:
        print(f"error: the signature may be fine, but revocation could not be checked: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(verdict.to_json(), indent=2, default=str) if args.json else verdict.proves())
    return 0 if verdict.valid and not verdict.revoked else 1


def _credential_text(text: str) -> str:
    """The compact JWT from a file holding it bare, or a JSON export of a badge (`credential` field)."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            document = json.loads(stripped)
        except ValueError:
            return stripped
        if isinstance(document, dict) and isinstance(document.get("credential"), str):
            return str(document["credential"])
    return stripped


def add_lms_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the LMS admin commands (org, person, token, profile, catalog, webhook, outbox, reminders, retention,
    badge) to a CLI."""

    def command(parent: Any, name: str, help_text: str, work: Callable[[Any, argparse.Namespace], dict[str, Any]],
                on: str = "session") -> Any:
        parser = parent.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("--database-url", help="default: $PRACTICUM_LMS_DATABASE_URL")
        parser.set_defaults(func=_database_command(work) if on == "database" else _session_command(work))
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

    p = command(person, "export", "one person's data as one JSON document (PIPL/GDPR access request)", _person_export)
    p.add_argument("name", help="the JupyterHub user name")
    p.add_argument("--output", help="write the document here instead of printing it")
    p = command(person, "erase", "erase a person from every table (PIPL/GDPR erasure request)", _person_erase)
    p.add_argument("name", help="the JupyterHub user name")
    p.add_argument("--confirm", required=True, help="the same user name again")
    p.add_argument("--keep-records", action="store_true",
                   help="anonymise: keep results and profile for statistics under a new random person")

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

    reminders = group("reminders", "reminders to learners and digests to instructors")
    p = command(reminders, "run", "run the scheduled job once: a reminder round, then retention (a CronJob's command)",
                _reminders_run, on="database")
    p.add_argument("--now", help="ISO time to run as (default: now)")
    p = command(reminders, "list", "the reminder log (interrupted: e-mails a crash left unconfirmed)", _reminders_list)
    p.add_argument("--status", choices=["claimed", "sent", "failed", "interrupted"])
    p.add_argument("--limit", type=int, default=100)

    retention = group("retention", "retention of audit entries and webhook deliveries")
    command(retention, "apply", "delete what is older than the retention settings now", _retention_apply)

    badge = group("badge", "Open Badges 3.0 credentials")
    p = command(badge, "list", "a person's badges", _badge_list)
    p.add_argument("name", help="the JupyterHub user name")
    p = command(badge, "revoke", "revoke a badge (it joins the public revocation list)", _badge_revoke)
    p.add_argument("badge_id")
    p.add_argument("--reason", required=True)
    p = badge.add_parser("verify", help="check a badge credential offline (and its revocation with --online)",
                         description=badge_verify.__doc__)
    p.add_argument("file", help="a VC-JWT file (or a badge's JSON with a 'credential' field)")
    p.add_argument("--public-key", help="the issuer's public key: PEM, JWK or JWK set (default: this LMS's issuer key)")
    p.add_argument("--online", action="store_true", help="also fetch the issuer's revocation list")
    p.add_argument("--allow-host", action="append", help="an internal host the revocation list may be fetched from")
    p.add_argument("--json", action="store_true", help="print the verdict and the credential as JSON")
    p.set_defaults(func=badge_verify)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m practicum.lms_api admin", description=__doc__)
    add_lms_commands(parser.add_subparsers(dest="command", required=True, metavar="COMMAND"))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result
