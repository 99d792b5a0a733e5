"""Pages of the execution app: bring a store's data in and follow each run."""

from __future__ import annotations

import csv

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from agency import selectors as agency_selectors
from agency.permissions import permission_required
from agency.spreadsheets import spreadsheet_text
from agency.views import apply_validation_error
from execution import permissions, selectors
from execution.forms import UploadForm
from execution.metrics.ingestion import ingestion_upload, progress_get


@permission_required(permissions.can_ingest_metrics)
def store_data(request, store_id: int):
    """Upload an export for a store, and the store's recent runs."""
    store = agency_selectors.store_get_for(agency=request.agency, store_id=store_id)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = ingestion_upload(
                actor=request.membership,
                store=store,
                file=upload,
                filename=upload.name,
                kind=form.cleaned_data["kind"] or None,
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            return redirect("ingestion_run", agency_slug=request.agency.slug, run_id=run.pk)
    runs = selectors.ingestion_runs_for_store(store=store)
    return render(
        request, "execution/store_data.html", {"store": store, "form": form, "runs": runs}
    )


@permission_required(permissions.can_ingest_metrics)
def ingestion_run(request, run_id: int):
    """A run's status, counts and errors; htmx polls the status panel until the run finishes."""
    run = selectors.ingestion_run_get_for(agency=request.agency, run_id=run_id)
    template = "execution/_run_status.html" if request.htmx else "execution/run_detail.html"
    rows_so_far = progress_get(run.pk) if run.status == run.Status.RUNNING else None
    return render(request, template, {"run": run, "rows_so_far": rows_so_far})


@permission_required(permissions.can_ingest_metrics)
def ingestion_run_errors_csv(request, run_id: int):
    """The run's errors as CSV (UTF-8 with BOM, so Excel opens Chinese text correctly)."""
    run = selectors.ingestion_run_get_for(agency=request.agency, run_id=run_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}-errors.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["row", "column", "value", "message"])
    for error in run.errors:
        writer.writerow(
            [
                error["row"],
                spreadsheet_text(error["column"]),
                spreadsheet_text(error["value"]),
                spreadsheet_text(error["message"]),
            ]
        )
    return response
