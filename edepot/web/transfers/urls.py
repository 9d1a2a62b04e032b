"""The transfers screen and its upload endpoint (tus 1.0), and the ingest monitor."""
from __future__ import annotations

from django.urls import URLPattern, path

from edepot.web.transfers import monitor, views

urlpatterns: list[URLPattern] = [
    path("transfers/", views.transfers, name="transfers"),
    path("transfers/uploads/", views.upload_create, name="upload-create"),
    path("transfers/uploads/<str:upload_id>/", views.upload, name="upload"),
    path("jobs/", monitor.jobs, name="jobs"),
    path("jobs/<str:job_id>/", monitor.job, name="job"),
    path("jobs/<str:job_id>/report.json", monitor.job_report, name="job-report"),
    path("jobs/<str:job_id>/retry/", monitor.job_retry, name="job-retry"),
    path("jobs/<str:job_id>/cancel/", monitor.job_cancel, name="job-cancel"),
]
