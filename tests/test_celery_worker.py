"""A real Celery worker, started as its own process against the real Redis broker, runs a task
that the test queues, and the task's effect appears in the (real PostgreSQL) database."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from agency.celery import app as celery_app
from agency.models import Membership
from agency.tasks import send_invitation
from agency.tenancy import agency_scope

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker_queue():
    """Start `celery worker` on a queue of its own; stop it (SIGTERM, warm shutdown) afterwards."""
    assert settings.REDIS_URL, "The worker test needs REDIS_URL (make services prints it)."
    queue = f"test-{uuid.uuid4().hex[:8]}"
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "agency.settings.test",
        "DATABASE_URL": (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST']}:"
            f"{database['PORT']}/{database['NAME']}"
        ),
        "REDIS_URL": settings.REDIS_URL,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "agency",
            "worker",
            "--loglevel=INFO",
            "--concurrency=1",
            "--pool=prefork",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    eager, default_queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue  # what services queue goes to this worker
    try:
        yield queue, worker
    finally:
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = default_queue
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def test_a_real_worker_runs_a_task_and_its_effect_reaches_the_database(
    worker_queue, demo_admin, demo_manager
):
    queue, worker = worker_queue
    assert demo_manager.invitation_sent_at is None

    send_invitation.apply_async(args=[demo_manager.agency_id, demo_manager.pk], queue=queue)

    deadline = time.monotonic() + 60
    sent_at = None
    while time.monotonic() < deadline and sent_at is None:
        with agency_scope(demo_manager.agency_id):
            sent_at = Membership.objects.get(pk=demo_manager.pk).invitation_sent_at
        if worker.poll() is not None:
            break
        time.sleep(0.25)
    if sent_at is None:
        worker.terminate()
        output = worker.communicate(timeout=20)[0]
        pytest.fail(f"The worker did not run the task within 60 s. Its log:\n{output[-3000:]}")
    # The task ran in the worker's process, inside the membership's agency only.
    with agency_scope(demo_admin.agency_id):
        assert Membership.objects.get(pk=demo_admin.pk).invitation_sent_at is None


def test_an_uploaded_export_is_ingested_by_the_real_worker(worker_queue, demo_manager, store_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from execution.metrics.ingestion import ingestion_upload
    from execution.models import IngestionRun, StoreDayFact

    _queue, worker = worker_queue
    csv = (
        "统计日期,访客数,支付金额,支付买家数\n"
        '2026-09-01,"1,200","3,456.78",40\n'
        "合计,1200,3456.78,40\n"
    )
    upload = SimpleUploadedFile("overview.csv", csv.encode("gb18030"), content_type="text/csv")
    with agency_scope(demo_manager.agency_id):
        run = ingestion_upload(
            actor=demo_manager, store=store_a, file=upload, filename="overview.csv"
        )
    # transaction=True: on_commit fired at once and queued the task for the worker.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with agency_scope(demo_manager.agency_id):
            run = IngestionRun.objects.get(pk=run.pk)
        if run.is_finished or worker.poll() is not None:
            break
        time.sleep(0.25)
    assert run.status == IngestionRun.Status.SUCCEEDED, (run.status, run.message, run.errors)
    assert (run.rows_read, run.rows_written, run.rows_skipped) == (1, 1, 1)
    with agency_scope(demo_manager.agency_id):
        fact = StoreDayFact.objects.get(store=store_a)
    assert (fact.visitors, str(fact.gmv), fact.run_id) == (1200, "3456.78", run.pk)
