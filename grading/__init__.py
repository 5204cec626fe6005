"""The grading service: intake of learners' submissions, the queue, workers, the outbox to the LMS, feedback."""
