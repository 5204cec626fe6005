"""`GET /hr/cohorts` for an organisation of 2,000 people, one uvicorn worker.

    .venv/bin/python bench/lms_cohorts.py [--people 2000] [--teams 20] [--requests 30]
        [--backends sqlite postgresql]

Goal (issue 12): <= 200 ms for 2,000 people (it took 10.7 s: a query per person, no paging).
Each person has a profile (7 dimensions), a role target, a team, learner enrollments in both
catalog courses, and about half have results and progress events; another organisation of the
same size shares the database. Requests are sequential, on one keep-alive connection, after a
warm-up; the figures are wall-clock per request as the client sees it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import timedelta

import httpx
from lms_bench_common import PREFIX, database, lms_server
from sqlalchemy import insert

from practicum.lms_api.db.engine import Database
from practicum.lms_api.db.migrate import upgrade_database
from practicum.lms_api.db.tables import Enrollment, Organisation, Person, ProfileValue, ProgressEvent, Result, Team
from practicum.lms_api.db.types import utcnow
from practicum.lms_api.framework import DIMENSIONS
from practicum.lms_api.services.catalog import SEED_CATALOG, load_catalog_file, sync_catalog
from practicum.lms_api.services.tokens import create_token
from practicum.lms_api.tokens import Scope

ROLES = ("algorithm_engineer", "clinical_ai_product_manager", "clinician", None)


def seed(url: str, people: int, teams: int) -> str:
    upgrade_database(url)
    db = Database(url)
    now = utcnow()
    with db.write() as session:
        sync_catalog(session, catalog=load_catalog_file(SEED_CATALOG))
        session.flush()
        token = ""
        for org_id in (1, 2):
            session.execute(insert(Organisation), [{"id": org_id, "slug": f"org{org_id}", "name": f"Org {org_id}",
                                                    "created_at": now}])
            session.execute(insert(Team), [{"id": org_id * 1000 + t, "organisation_id": org_id, "name": f"team{t}",
                                            "created_at": now} for t in range(teams)])
            base = org_id * 100_000
            session.execute(insert(Person), [{
                "id": base + n, "name": f"o{org_id}p{n}", "organisation_id": org_id,
                "team_id": org_id * 1000 + n % teams if n % 17 else None, "role_target": ROLES[n % 4], "active": True,
                "created_at": now,
            } for n in range(people)])
            session.execute(insert(ProfileValue), [
                {"person_id": base + n, "dimension": d, "value": round((n * 7 + i * 3) % 41 / 10, 4), "updated_at": now}
                for n in range(people) for i, d in enumerate(DIMENSIONS)
            ])
            session.execute(insert(Enrollment), [
                {"person_id": base + n, "course_id": c, "role": "learner", "source": "hub", "enrolled_at": now}
                for n in range(people) for c in ("intro_medical_ai", "clinical_ai_projects")
            ])
            results = [{
                "id": base + n, "submission_id": f"s{base + n}", "person_id": base + n,
                "item_id": "lung_nodule_ct_detection", "course_id": "clinical_ai_projects", "kind": "project",
                "passed": n % 3 != 0, "score": 0.5 + n % 50 / 100, "attempt": 1, "metrics": {"froc": 0.8},
                "targets": [], "grader_version": "1", "started_at": now - timedelta(minutes=5), "finished_at": now,
                "received_at": now, "body_sha256": "0" * 64,
            } for n in range(0, people, 2)]
            session.execute(insert(Result), results)
            session.execute(insert(ProgressEvent), [{
                "person_id": r["person_id"], "item_id": r["item_id"], "kind": k, "occurred_at": now,
                "seconds_spent": 60 if k == "submitted" else 0, "result_id": r["id"], "recorded_by": "bench",
                "recorded_at": now,
            } for r in results for k in ("submitted", "passed" if r["passed"] else "failed")])
            if org_id == 1:
                _, token = create_token(session, name="hr", scopes=[Scope.HR_READ], organisation_id=1,
                                        created_by="bench")
        session.commit()
    db.dispose()
    return token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    report = {}
    for backend in args.backends:
        with database(backend) as url:
            started = time.perf_counter()
            token = seed(url, args.people, args.teams)
            seeded = time.perf_counter() - started
            with lms_server(url) as server, httpx.Client(
                base_url=f"http://127.0.0.1:{server.port}{PREFIX}", headers={"Authorization": f"Bearer {token}"}
            ) as http:
                for _ in range(3):  # warm-up
                    http.get("hr/cohorts").raise_for_status()
                figures = {}
                for name, params in (("json", {}), ("csv", {"format": "csv"}), ("one page of 5", {"limit": 5})):
                    times = []
                    for _ in range(args.requests):
                        begin = time.perf_counter()
                        response = http.get("hr/cohorts", params=params)
                        times.append((time.perf_counter() - begin) * 1000)
                        response.raise_for_status()
                    times.sort()
                    figures[name] = {
                        "p50_ms": round(statistics.median(times), 1),
                        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1), "max_ms": round(times[-1], 1),
                    }
                body = http.get("hr/cohorts").json()
                headcount = sum(row["headcount"] for row in body["items"])
            report[backend] = {"people": headcount, "cohorts": body["total"], "seed_seconds": round(seeded, 1),
                               **figures}
            print(backend, json.dumps(report[backend]), flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
