"""Page loads of the LMS pages with 2,000 learners, one uvicorn worker.

    .venv/bin/python bench/lms_pages.py [--learners 2000] [--requests 40] [--backends sqlite postgresql]

Goal (issue 12): p95 <= 300 ms for the learner page and the cohort pages. One organisation of
2,000 learners (7-dimension profiles, role targets, 20 teams), all enrolled in both catalog
courses, each with a graded result and its progress events; 20 of them also have ten results
posted through the API (so their pages show evidence, history and changes). Timed: the HTML of
`pages/people/{id}` (cycling over those 20 and 20 others), of `pages/courses/clinical_ai_projects`
(the instructor's cohort page: 2,000 learners) and of `pages/organisation` (HR's cohort page),
sequential requests on one keep-alive connection after a warm-up, wall-clock as the client sees it,
and the CPU the server used per page (from /proc: what a busy machine does not change much).
Static files (plotly.js, CSS) are cached by browsers for a year and are not part of the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

import httpx
import yaml
from lms_bench_common import PREFIX, LmsServer, database, lms_server
from sqlalchemy import insert, text

from practicum.lms_api.db.engine import Database
from practicum.lms_api.db.migrate import upgrade_database
from practicum.lms_api.db.tables import Enrollment, Organisation, Person, ProfileValue, ProgressEvent, Result, Team
from practicum.lms_api.db.types import utcnow
from practicum.lms_api.framework import DIMENSIONS
from practicum.lms_api.schemas.catalog import CatalogFile
from practicum.lms_api.services.catalog import SEED_CATALOG, sync_catalog
from practicum.lms_api.services.tokens import create_token
from practicum.lms_api.tokens import Scope

ROLES = ("algorithm_engineer", "clinical_ai_product_manager", "clinician")
PROJECTS = ("lung_nodule_ct_detection", "glucose_cgm_forecasting", "ehr_complication_risk")
RICH = 20  # learners with ten results each, posted through the API


def seed(url: str, learners: int, teams: int) -> dict[str, str]:
    upgrade_database(url)
    db = Database(url)
    now = utcnow()
    catalog = yaml.safe_load(SEED_CATALOG.read_text())
    for course in catalog["courses"]:
        for item in course["items"]:
            if item["id"] == "glucose_cgm_forecasting":
                item["due_at"] = "2026-01-01T00:00:00Z"
    with db.write() as session:
        sync_catalog(session, catalog=CatalogFile.model_validate(catalog))
        session.execute(insert(Organisation), [{"id": 1, "slug": "acme", "name": "Acme Hospital", "created_at": now}])
        session.execute(insert(Team), [{"id": t + 1, "organisation_id": 1, "name": f"team{t:02d}", "created_at": now}
                                       for t in range(teams)])
        session.execute(insert(Person), [{
            "id": n + 1, "name": f"learner{n:04d}", "organisation_id": 1, "team_id": n % teams + 1 if n % 13 else None,
            "role_target": ROLES[n % 3], "active": True, "created_at": now,
        } for n in range(learners)])
        session.execute(insert(ProfileValue), [
            {"person_id": n + 1, "dimension": d, "value": round((n * 7 + i * 3) % 31 / 10, 4), "updated_at": now}
            for n in range(learners) for i, d in enumerate(DIMENSIONS)
        ])
        session.execute(insert(Enrollment), [
            {"person_id": n + 1, "course_id": c, "role": "learner", "source": "hub", "enrolled_at": now}
            for n in range(learners) for c in ("intro_medical_ai", "clinical_ai_projects")
        ])
        results = [{
            "id": n + 1, "submission_id": f"seed-{n}", "person_id": n + 1, "item_id": PROJECTS[n % 3],
            "course_id": "clinical_ai_projects", "kind": "project", "passed": n % 3 != 0, "score": 0.4 + n % 60 / 100,
            "attempt": 1, "metrics": {"auroc": 0.8}, "targets": [], "grader_version": "1",
            "started_at": now - timedelta(days=n % 30, minutes=5), "finished_at": now - timedelta(days=n % 30),
            "received_at": now, "body_sha256": "0" * 64,
        } for n in range(learners)]
        session.execute(insert(Result), results)
        session.execute(insert(ProgressEvent), [{
            "person_id": r["person_id"], "item_id": r["item_id"], "kind": k, "occurred_at": r["finished_at"],
            "seconds_spent": 600 if k == "started" else 0, "result_id": r["id"] if k != "started" else None,
            "recorded_by": "bench", "recorded_at": now,
        } for r in results for k in ("started", "submitted", "passed" if r["passed"] else "failed")])
        tokens = {}
        for name, scopes, org in (("admin", [Scope.ADMIN], None), ("hr", [Scope.HR_READ], 1),
                                  ("grader", [Scope.RESULTS_WRITE], None)):
            tokens[name] = create_token(session, name=name, scopes=scopes, organisation_id=org, created_by="bench")[1]
        if session.get_bind().dialect.name == "postgresql":  # rows were inserted with ids: move the sequences on
            for table in ("organisations", "teams", "people", "results", "progress_events"):
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        session.commit()
    db.dispose()
    return tokens


def post_rich_results(http: httpx.Client, grader: str, learners: int) -> list[int]:
    rich = [1 + n * (learners // RICH) for n in range(RICH)]
    start = datetime(2026, 1, 10, tzinfo=UTC)
    for person_id in rich:
        for attempt in range(10):
            item = PROJECTS[attempt % 3]
            score = min(1.0, 0.45 + 0.06 * attempt)
            begin = start + timedelta(days=attempt * 3)
            body = {
                "submission_id": f"rich-{person_id}-{attempt}", "learner": f"learner{person_id - 1:04d}", "kind": "project",
                "item_id": item, "metrics": {"auroc": score}, "passed": score >= 0.7, "score": score,
                "targets": [{"metric": "auroc", "threshold": 0.7, "direction": "at_least", "value": score,
                             "met": score >= 0.7, "margin": score - 0.7}],
                "mlflow_run_id": f"{person_id:016x}{attempt:016x}", "grader_version": "1.0.0",
                "feedback_url": f"/services/grading/gradings/rich-{person_id}-{attempt}",
                "started_at": begin.isoformat(), "finished_at": (begin + timedelta(minutes=4)).isoformat(),
            }
            response = http.post("results", json=body, headers={"Authorization": f"Bearer {grader}"})
            assert response.status_code in (200, 201), response.text
    return rich


def timed(http: httpx.Client, server: LmsServer, paths: list[str], token: str, requests: int) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/html"}
    for path in paths[:3]:
        http.get(path, headers=headers).raise_for_status()
    times, sizes = [], []
    cpu_before = server.cpu_seconds()
    for n in range(requests):
        begin = time.perf_counter()
        response = http.get(paths[n % len(paths)], headers=headers)
        times.append((time.perf_counter() - begin) * 1000)
        response.raise_for_status()
        sizes.append(len(response.content))
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / requests
    times.sort()
    return {"server_cpu_ms": round(cpu_ms, 1), "p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 1),
            "max_ms": round(times[-1], 1), "html_kb": round(statistics.mean(sizes) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    args = parser.parse_args()
    report = {}
    for backend in args.backends:
        with database(backend) as url:
            tokens = seed(url, args.learners, args.teams)
            with lms_server(url) as server, httpx.Client(base_url=f"http://127.0.0.1:{server.port}{PREFIX}",
                                                         timeout=60) as http:
                rich = post_rich_results(http, tokens["grader"], args.learners)
                others = [7 + n * 97 for n in range(RICH)]
                figures = {
                    "learner page": timed(http, server, [f"pages/people/{p}" for pair in zip(rich, others, strict=True)
                                                 for p in pair], tokens["admin"], args.requests),
                    "instructor cohort page": timed(http, server, ["pages/courses/clinical_ai_projects"], tokens["admin"],
                                                    args.requests),
                    "HR cohort page": timed(http, server, ["pages/organisation"], tokens["hr"], args.requests),
                }
            report[backend] = {"learners": args.learners, "load_average": os.getloadavg()[0], **figures}
            print(backend, json.dumps(report[backend]), flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
