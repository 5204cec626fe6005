"""Result posts: p99 at 8 concurrent writers, and no lost writes (every 201 is a stored row).

    .venv/bin/python bench/lms_result_posts.py [--seconds 15] [--backends sqlite postgresql] [--repeat 1]

Goal (issue 5): p99 <= 100 ms. Each post stores a result, three progress events, the evidence,
the profile changes and (with a subscribed webhook) outbox rows, in one transaction.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta

from lms_bench_common import PREFIX, build_request, database, lms_server, run_load
from sqlalchemy import func, select

from practicum.contracts.grade_result import GradeResult, ItemKind
from practicum.lms_api.db.engine import Database
from practicum.lms_api.db.migrate import upgrade_database
from practicum.lms_api.db.tables import Result
from practicum.lms_api.schemas.organisations import OrganisationCreate
from practicum.lms_api.schemas.webhooks import WebhookCreate
from practicum.lms_api.services.catalog import SEED_CATALOG, load_catalog_file, sync_catalog
from practicum.lms_api.services.organisations import create_organisation
from practicum.lms_api.services.people import ensure_person
from practicum.lms_api.services.tokens import create_token
from practicum.lms_api.services.webhooks import create_webhook
from practicum.lms_api.tokens import Scope

LEARNERS = 40


def seed(url: str) -> str:
    upgrade_database(url)
    db = Database(url)
    with db.write() as session:
        sync_catalog(session, catalog=load_catalog_file(SEED_CATALOG))
        org = create_organisation(session, data=OrganisationCreate(slug="bench", name="Bench"))
        for n in range(LEARNERS):
            ensure_person(session, name=f"learner{n}", organisation_id=org.id)
        create_webhook(session, organisation_id=org.id, data=WebhookCreate(url="http://127.0.0.1:9/hook"))  # type: ignore[arg-type]
        _, token = create_token(session, name="grader", scopes=[Scope.RESULTS_WRITE], organisation_id=None,
                                created_by="bench")
        session.commit()
    db.dispose()
    return token


def body(client: int, number: int, run: str) -> bytes:
    finished = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=number)
    result = GradeResult(
        submission_id=f"{run}-{client}-{number}", learner=f"learner{number % LEARNERS}", kind=ItemKind.PROJECT,
        item_id="lung_nodule_ct_detection", metrics={"froc": 0.8}, passed=number % 3 != 0, score=0.5 + (number % 50) / 100,
        mlflow_run_id="0" * 32, grader_version="bench", started_at=finished - timedelta(minutes=5), finished_at=finished,
    )
    return result.to_json().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--repeat", type=int, default=1, help="measure this many times on one server")
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto", help="uvicorn's event loop")
    parser.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto", help="uvicorn's HTTP parser")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers")
    args = parser.parse_args()
    report: dict[str, list[dict[str, object]]] = {}
    for backend in args.backends:
        with database(backend) as url:
            token = seed(url)
            created = 0
            with lms_server(url, workers=args.workers, loop=args.loop, http=args.http) as server:
                for run in range(args.repeat):
                    def next_request(client: int, number: int, token: str = token, run: int = run) -> bytes:
                        return build_request("POST", f"{PREFIX}results", token, body(client, number, f"bench{run}"))

                    result = run_load(server, args.writers, args.seconds, next_request)
                    created += result.statuses.get(201, 0)
                    label = f"result posts, {backend}, {args.writers} writers, {args.workers} worker(s), uvicorn {args.loop}/{args.http}"
                    print(result.line(label), flush=True)
                    report.setdefault(backend, []).append(result.summary())
            db = Database(url)
            with db.read() as session:
                stored = session.scalar(select(func.count()).select_from(Result)) or 0
            db.dispose()
        print(f"  {backend}: 201 answers: {created}, rows stored: {stored}, lost writes: {created - stored}")
        report.setdefault(backend, []).append({"created": created, "stored": stored, "lost_writes": created - stored})
    print(json.dumps(report))


if __name__ == "__main__":
    main()
