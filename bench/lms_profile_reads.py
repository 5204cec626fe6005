"""Authenticated profile reads: requests/s and p99 at 32 concurrent clients, one uvicorn worker.

    .venv/bin/python bench/lms_profile_reads.py [--seconds 15] [--backends sqlite postgresql]
        [--repeat 1] [--workers 1] [--client python|wrk]

Goal (issue 5): >= 1,000 req/s and p99 <= 50 ms. Each read is a full GET /people/{id}/profile
with an HR token (hash lookup, per-object check, profile with the latest evidence per dimension,
an audited read). `--client wrk` drives the same load from wrk (C, apt package `wrk`) instead of
the Python client, to see how much the load generator itself costs.
"""

from __future__ import annotations

import argparse
import json

from lms_bench_common import PREFIX, build_request, database, lms_server, run_load, run_wrk

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
    parser.add_argument("--repeat", type=int, default=1, help="measure this many times on one server")
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto", help="uvicorn's event loop")
    parser.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto", help="uvicorn's HTTP parser")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers (the goal is for 1)")
    parser.add_argument("--client", choices=["python", "wrk"], default="python")
    args = parser.parse_args()
    report: dict[str, list[dict[str, object]]] = {}
    for backend in args.backends:
        with database(backend) as url:
            token, ids = seed(url)
            with lms_server(url, workers=args.workers, loop=args.loop, http=args.http) as server:
                paths = [f"{PREFIX}people/{pid}/profile" for pid in ids]
                requests = [build_request("GET", path, token) for path in paths]

                def next_request(client: int, number: int, requests: list[bytes] = requests) -> bytes:
                    return requests[number % len(requests)]

                run_load(server, args.clients, 2.0, next_request)  # warm-up
                for _ in range(args.repeat):
                    if args.client == "wrk":
                        result = run_wrk(server, args.clients, args.seconds, paths, token)
                    else:
                        result = run_load(server, args.clients, args.seconds, next_request)
                    label = (f"profile reads, {backend}, {args.clients} clients, {args.workers} worker(s), "
                             f"uvicorn {args.loop}/{args.http}, {args.client} client")
                    print(result.line(label), flush=True)
                    report.setdefault(backend, []).append(result.summary())
    print(json.dumps(report))


if __name__ == "__main__":
    main()
