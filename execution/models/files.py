"""Columns of an uploaded workspace file (evidence, a creative): stored under MEDIA_ROOT, which
no URL serves; each owner's download view checks access and answers with the file as an
attachment (`execution.files`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def workspace_upload_path(instance: models.Model, filename: str) -> str:
    # The stored name is the checksum, never the user's file name (kept in `filename`).
    return f"workspace/{instance.agency_id}/{instance._meta.model_name}/{instance.sha256}"


class UploadedFileFields(models.Model):
    file = models.FileField(_("file"), upload_to=workspace_upload_path, blank=True, max_length=300)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    content_type = models.CharField(_("type"), max_length=100, blank=True)
    size = models.BigIntegerField(_("size"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        abstract = True
