"""Test only: files that stop their worker every time. Loaded by the workers that
tests/test_worker_failover.py starts (`celery worker -I tests.worker_poison`), never by the
portal: production code has no hook for it.

Parsing an export whose file name contains POISON sends SIGKILL to the process parsing it, as the
kernel's OOM killer does to a pool process that a huge or malformed file blew up; parsing one
whose name contains STUCK never ends and ignores the soft time limit (only the hard one stops
it). Both happen inside the ingestion run, after the delivery has counted its attempt, where a
real crash or hang would.
"""

import os
import signal
import time

from celery.exceptions import SoftTimeLimitExceeded

from execution.metrics import parsing

POISON_MARK = "POISON"
STUCK_MARK = "STUCK"

_parse_report = parsing.parse_report


def parse_report_or_die(source, *, filename: str, **options):
    if POISON_MARK in filename:
        os.kill(os.getpid(), signal.SIGKILL)
    while STUCK_MARK in filename:
        try:
            time.sleep(3600)
        except SoftTimeLimitExceeded:
            continue  # as deaf to it as a wait inside C code: only the hard limit ends this
    return _parse_report(source, filename=filename, **options)


# execution.metrics.ingestion looks the parser up on the package each time it parses a file.
parsing.parse_report = parse_report_or_die
