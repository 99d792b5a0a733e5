"""Workspace files are checked by their content, their archives before anything is unpacked,
and their size before anything is read."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from agency.tenancy import agency_scope
from execution.files import file_download_response, file_store, file_type_detect
from execution.models import SetupEvidence, SetupItem, SetupSection
from tests.images import png_bytes


def office_bytes(folder: str = "word/", entries: int = 3, size: int = 100) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        for number in range(entries):
            archive.writestr(f"{folder}part{number}.xml", "x" * size)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"%PDF-1.7\n%...", "application/pdf"),
        (png_bytes(), "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, "image/jpeg"),
        (b"GIF89a" + b"\0" * 10, "image/gif"),
        (b"RIFF\x10\0\0\0WEBPVP8 ", "image/webp"),
        (b"\0\0\0\x18ftypmp42" + b"\0" * 8, "video/mp4"),
        (
            office_bytes("xl/"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            office_bytes("word/"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_the_type_is_read_from_the_content(content, content_type):
    # The name says .txt: only the bytes count.
    assert file_type_detect(io.BytesIO(content), "named-wrongly.txt") == content_type


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"MZ\x90\0 a Windows program", "setup.pdf is not an accepted kind of file"),
        (b"<html><script>alert(1)</script>", "setup.pdf is not an accepted kind of file"),
        (office_bytes("other/"), "setup.pdf is a ZIP archive, not an Office document"),
        (b"PK\x03\x04 truncated", "setup.pdf is not a readable Office document"),
        (office_bytes(entries=2_100, size=1), "unpacks to 2101 entries"),
        (office_bytes(entries=1, size=5_000_000), "refused as a ZIP bomb"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused_by_name(content, message):
    with pytest.raises(ValidationError) as refused:
        file_type_detect(io.BytesIO(content), "setup.pdf")
    assert message in refused.value.messages[0]


@pytest.fixture
def evidence(engagement_a):
    with agency_scope(engagement_a.agency_id):
        item = SetupItem.objects.create(
            engagement=engagement_a, section=SetupSection.QUALIFICATION, title="营业执照"
        )
    return SetupEvidence(item=item, agency_id=engagement_a.agency_id)


@override_settings(WORKSPACE_FILE_MAX_MB=1)
def test_a_file_over_the_size_limit_is_refused_before_it_is_read(evidence):
    upload = SimpleUploadedFile("licence.pdf", b"%PDF-" + b"0" * (1024 * 1024))
    with pytest.raises(ValidationError) as refused:
        file_store(instance=evidence, upload=upload)
    assert "licence.pdf is 1.0 MB; the limit is 1 MB." in refused.value.message_dict["file"]
    assert not evidence.file


def test_a_stored_file_keeps_its_name_for_the_download_only(evidence):
    upload = SimpleUploadedFile("营业执照 2026.pdf", b"%PDF-1.4 licence", content_type="text/html")
    file_store(instance=evidence, upload=upload)
    with agency_scope(evidence.agency_id):
        evidence.save()
    # Stored under its checksum, never under a name the user chose; the claimed type is ignored.
    assert f"workspace/{evidence.agency_id}/setupevidence/{evidence.sha256}" in evidence.file.name
    assert evidence.content_type == "application/pdf"
    response = file_download_response(evidence)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "2026.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"%PDF-1.4 licence"
