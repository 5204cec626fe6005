"""Authenticated profile reads: requests/s and p99 at 32 concurrent clients, one uvicorn worker.

    .venv/bin/python bench/lms_profile_reads.py [--seconds 15] [--backends sqlite postgresql]

Goal (issue 5): >= 1,000 req/s and p99 <= 50 ms. Each read is a full GET /people/{id}/profile
with an HR token (hash lookup, per-object check, profile with the latest evidence per dimension,
an audited read).
"""

from __future__ import annotations

import argparse
import asyncio
import json

from lms_bench_common import PREFIX, build_request, database, lms_server, run_load

from practicum.lms_api.db.engine import Database
from practicum.lms_api.db.migrate import upgrade_database
from practicum.lms_api.db.types import utcnow
from practicum.lms_api.schemas.profiles import InterviewImport
from practicum.lms_api.services.evidence import import_interview
from practicum.lms_api.services.tokens import create_token
from practicum.lms_api.tokens import Scope

PEOPLE = 50


def seed(url: str) -> tuple[str, list[int]]:
    from practicum.lms_api.schemas.organisations import OrganisationCreate
    from practicum.lms_api.services.organisations import create_organisation

    upgrade_database(url)
    db = Database(url)
    with db.write() as session:
        org = create_organisation(session, data=OrganisationCreate(slug="bench", name="Bench"))
        ids = []
        for n in range(PEOPLE):
            for round_ in range(3):  # some history per dimension
                data = InterviewImport.model_validate({
                    "person": f"learner{n}", "organisation": "bench", "role_target": "algorithm_engineer",
                    "assessed_at": "2026-01-01T00:00:00Z", "assessor": "hr",
                    "levels": {"ml_engineering": (n + round_) % 5, "medical_imaging": round_, "clinical_data": 1},
                })
                person, _, _ = import_interview(session, data=data, allowed_organisation_id=None, actor="bench",
                                                now=utcnow())
            ids.append(person.id)
        _, token = create_token(session, name="hr", scopes=[Scope.HR_READ], organisation_id=org.id, created_by="bench")
        session.commit()
    db.dispose()
    return token, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    report = {}
    for backend in args.backends:
        with database(backend) as url:
            token, ids = seed(url)
            with lms_server(url) as port:
                requests = [build_request("GET", f"{PREFIX}people/{pid}/profile", token) for pid in ids]

                def next_request(client: int, number: int, requests: list[bytes] = requests) -> bytes:
                    return requests[number % len(requests)]

                asyncio.run(run_load(port, args.clients, 2.0, next_request))  # warm-up
                result = asyncio.run(run_load(port, args.clients, args.seconds, next_request))
        print(result.line(f"profile reads, {backend}, {args.clients} clients"))
        report[backend] = {"req_per_s": round(result.rate), "p50_ms": round(result.percentile(0.5), 1),
                           "p99_ms": round(result.percentile(0.99), 1), "statuses": result.statuses}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
