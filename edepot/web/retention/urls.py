"""The URLs of the retention screens: records due, destruction lists under four eyes, holds, transfer and a
record's appraisal and openness."""
from __future__ import annotations

from django.urls import URLPattern, path

from edepot.web import converters  # noqa: F401  (registers <name:...>)
from edepot.web.retention import views

urlpatterns: list[URLPattern] = [
    path("retention/", views.overview, name="retention"),
    path("retention/due/", views.due, name="retention-due"),
    path("retention/lists/", views.draw_up, name="retention-draw-up"),
    path("retention/lists/<name:list_id>/", views.destruction_list, name="retention-list"),
    path("retention/lists/<name:list_id>/approve/", views.approve, name="retention-approve"),
    path("retention/lists/<name:list_id>/reject/", views.reject, name="retention-reject"),
    path("retention/lists/<name:list_id>/destroy/", views.destroy, name="retention-destroy"),
    path("retention/lists/<name:list_id>/certificate/", views.certificate, name="retention-certificate"),
    path("retention/holds/", views.holds, name="retention-holds"),
    path("retention/transfer/", views.transfer, name="retention-transfer"),
    path("retention/transfer.csv", views.transfer_csv, name="retention-transfer-csv"),
    path("retention/records/<name:record_id>/", views.record, name="retention-record"),
    path("retention/records/<name:record_id>/reappraise/", views.reappraise, name="retention-reappraise"),
    path("retention/records/<name:record_id>/access/", views.access, name="retention-access"),
]
