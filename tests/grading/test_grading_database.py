"""A grading database made by an earlier version opens with this version's columns, its rows kept."""

from __future__ import annotations

import time

from sqlalchemy import create_engine, text

from practicum.grading.database import connect, outbox, transaction

EARLIER_OUTBOX = """
CREATE TABLE outbox (grading_id VARCHAR(80) PRIMARY KEY, tries INTEGER NOT NULL, next_attempt_at FLOAT NOT NULL,
                     delivered_at TIMESTAMP, last_error VARCHAR(500))
"""


def test_an_earlier_outbox_gets_the_refused_column_and_keeps_its_rows(database_url):
    earlier = create_engine(database_url)
    with earlier.begin() as connection:
        connection.execute(text(EARLIER_OUTBOX))
        connection.execute(text("INSERT INTO outbox VALUES ('g1', 2, :at, NULL, 'HTTP 503')"), {"at": time.time()})
    earlier.dispose()
    engine = connect(database_url)
    with transaction(engine) as connection:
        (row,) = connection.execute(outbox.select()).all()
    assert (row.grading_id, row.tries, row.last_error, row.refused_at) == ("g1", 2, "HTTP 503", None)
    engine.dispose()
    again = connect(database_url)  # a second start finds the column there and adds nothing
    with transaction(again) as connection:
        assert connection.execute(outbox.select()).one().grading_id == "g1"
    again.dispose()
