"""What learners read: their submissions and each grading's feedback (JSON, or a page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import Environment, select_autoescape
from sqlalchemy import select

from .context import GradingContext
from .database import gradings, results, submissions, transaction
from .feedback import Feedback, feedback_summary


@dataclass(frozen=True)
class GradingView:
    grading_id: str
    submission_id: str
    learner: str
    item_id: str
    reason: str
    state: str  # queued | running | done | failed
    queued_at: datetime
    feedback: Feedback | None

    def to_json(self) -> dict[str, Any]:
        return {
            "grading_id": self.grading_id,
            "submission_id": self.submission_id,
            "item_id": self.item_id,
            "reason": self.reason,
            "state": self.state,
            "queued_at": self.queued_at.isoformat(),
            "feedback": self.feedback.model_dump(mode="json") if self.feedback else None,
        }


_COLUMNS = (
    gradings.c.id, gradings.c.submission_id, gradings.c.reason, gradings.c.state, gradings.c.queued_at,
    submissions.c.learner, submissions.c.item_id, results.c.feedback,
)


def _query():  # type: ignore[no-untyped-def]
    return (
        select(*_COLUMNS)
        .join(submissions, submissions.c.id == gradings.c.submission_id)
        .outerjoin(results, results.c.grading_id == gradings.c.id)
    )


def _view(row: Any) -> GradingView:
    return GradingView(
        grading_id=row.id, submission_id=row.submission_id, learner=row.learner, item_id=row.item_id, reason=row.reason,
        state=row.state, queued_at=row.queued_at, feedback=Feedback.model_validate_json(row.feedback) if row.feedback else None,
    )


def grading_view(context: GradingContext, grading_id: str) -> GradingView | None:
    with transaction(context.engine) as connection:
        row = connection.execute(_query().where(gradings.c.id == grading_id)).first()
    return _view(row) if row else None


def submissions_of(context: GradingContext, learner: str) -> list[dict[str, Any]]:
    with transaction(context.engine) as connection:
        rows = connection.execute(_query().where(submissions.c.learner == learner).order_by(gradings.c.queued_at)).all()
    listed = []
    for row in rows:
        view = _view(row)
        entry = view.to_json()
        entry["feedback"] = feedback_summary(view.feedback) if view.feedback else None
        listed.append(entry)
    return listed


_PAGE = Environment(autoescape=select_autoescape(default=True, default_for_string=True)).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}: grading {{ g.grading_id }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ccc;text-align:left}
.met{color:#0a6b2d}.missed{color:#a4161a}img{max-width:100%;height:auto}</style></head>
<body><main>
<h1>{{ title }}</h1>
<p>Grading <code>{{ g.grading_id }}</code> ({{ g.reason }}), queued {{ g.queued_at.strftime('%Y-%m-%d %H:%M UTC') }}: <strong>{{ g.state }}</strong></p>
{% if f %}
<h2>{% if f.passed %}<span class="met">Passed</span>{% else %}<span class="missed">Not passed</span>{% endif %}: {{ '%.0f' % (100 * f.score) }} % of targets met</h2>
{% if f.error %}<p role="alert">Your model could not be scored: {{ f.error }}</p>{% endif %}
{% if f.targets %}
<table><caption>Targets on the hidden test split</caption>
<tr><th scope="col">metric</th><th scope="col">target</th><th scope="col">yours</th><th scope="col">margin</th><th scope="col">verdict</th></tr>
{% for t in f.targets %}<tr><td>{{ t.metric }}</td><td>{{ t.rule }}</td><td>{{ t.value }}</td><td>{{ t.margin }}</td>
<td class="{{ 'met' if t.met else 'missed' }}">{{ 'met' if t.met else 'missed' }}</td></tr>{% endfor %}
</table>{% endif %}
{% for name, png in f.figures.items() %}<figure><img alt="{{ name }}" src="data:image/png;base64,{{ png }}"><figcaption>{{ name }}</figcaption></figure>{% endfor %}
<p>Grader {{ f.grader_version }}, graded {{ f.graded_at.strftime('%Y-%m-%d %H:%M UTC') }}. Figures and figures' numbers are
aggregates over the hidden split: it stays hidden.</p>
{% else %}<p>Not graded yet: this page shows the feedback once it is.</p>{% endif %}
</main></body></html>
"""
)


def feedback_page(view: GradingView) -> str:
    title = view.feedback.title if view.feedback else view.item_id
    return _PAGE.render(g=view, f=view.feedback, title=title)
