from django.urls import include, path

from execution import views

urlpatterns = [
    path("stores/<int:store_id>/data/", views.store_data, name="store_data"),
    path("data/runs/<int:run_id>/", views.ingestion_run, name="ingestion_run"),
    path(
        "data/runs/<int:run_id>/errors.csv",
        views.ingestion_run_errors_csv,
        name="ingestion_run_errors",
    ),
    # The workspace of steps 3 to 5, one namespace per area.
    path("", include("execution.setup.urls")),
    path("", include("execution.traffic.urls")),
    path("", include("execution.conversion.urls")),
]
