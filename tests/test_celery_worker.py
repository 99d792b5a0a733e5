"""A real Celery worker (the root conftest's `worker_queue`: its own process against the real
Redis broker) runs a task that the test queues, and the task's effect appears in the (real
PostgreSQL) database."""

import time

import pytest

from agency.models import Membership
from agency.tasks import send_invitation
from agency.tenancy import agency_scope

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


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
