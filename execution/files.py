"""Files of the execution workspace (setup evidence, campaign creatives): checked by content on
the way in, stored under MEDIA_ROOT (which no URL serves), and handed out only by views that
have already checked who may see the row the file belongs to.

A file's type is what its first bytes say, never its name: a PDF, an image (PNG, JPEG, GIF,
WebP), an MP4 video, or an Office document (DOCX, XLSX, PPTX). An Office document is a ZIP
archive, so its directory is checked (entries, total uncompressed size, compression ratio)
before anything would be decompressed; then the start of each XML part is read, up to its first
element, and a part that declares a document type (a DTD, where entity bombs such as the
"billion laughs" live; Office never writes one) is refused. The portal never parses these files,
but whoever downloads them might.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from typing import IO
from xml.parsers import expat

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.http import FileResponse
from django.utils.translation import gettext as _

from execution.models.files import UploadedFileFields

# (content type, the bytes it starts with, at which offset)
SIGNATURES: tuple[tuple[str, bytes, int], ...] = (
    ("application/pdf", b"%PDF-", 0),
    ("image/png", b"\x89PNG\r\n\x1a\n", 0),
    ("image/jpeg", b"\xff\xd8\xff", 0),
    ("image/gif", b"GIF87a", 0),
    ("image/gif", b"GIF89a", 0),
    ("video/mp4", b"ftyp", 4),
)
ZIP_MAGIC = b"PK\x03\x04"
OFFICE_TYPES = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# An Office file beyond these is refused unread: a real design deck or spreadsheet stays far
# below them, a ZIP bomb does not.
ARCHIVE_MAX_ENTRIES = 2_000
ARCHIVE_MAX_UNCOMPRESSED = 200 * 1024 * 1024
ARCHIVE_MAX_RATIO = 100
# The prolog of an Office XML part (declaration, then the root element) fits in far less.
XML_PROLOG_MAX_BYTES = 64 * 1024
XML_PART_SUFFIXES = (".xml", ".rels", ".vml")


def _webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


def _office_type(file: IO[bytes], filename: str) -> str:
    from execution.metrics.parsing import ReportError
    from execution.metrics.parsing.sources import check_end_record

    # Far beyond the limits by the archive's own end record: refused before zipfile reads its
    # directory (seconds for 100,000 entries); nearer them, the full count below says more.
    try:
        check_end_record(file, filename, ARCHIVE_MAX_ENTRIES)
    except ReportError as error:
        raise ValidationError(str(error), code="archive_too_big") from error
    try:
        archive = zipfile.ZipFile(file)  # closed below, after its XML parts
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise ValidationError(
            _("%(file)s is not a readable Office document.") % {"file": filename},
            code="bad_archive",
        ) from error
    with archive:
        return _office_type_checked(archive, entries, filename)


def _office_type_checked(archive: zipfile.ZipFile, entries, filename: str) -> str:
    total = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries) or 1
    if len(entries) > ARCHIVE_MAX_ENTRIES or total > ARCHIVE_MAX_UNCOMPRESSED:
        raise ValidationError(
            _("%(file)s unpacks to %(entries)s entries and %(mb)s MB; refused.")
            % {"file": filename, "entries": len(entries), "mb": total // (1024 * 1024)},
            code="archive_too_big",
        )
    if total / packed > ARCHIVE_MAX_RATIO:
        raise ValidationError(
            _("%(file)s is compressed %(ratio)s times; refused as a ZIP bomb.")
            % {"file": filename, "ratio": total // packed},
            code="archive_ratio",
        )
    for entry in entries:
        if entry.filename.lower().endswith(XML_PART_SUFFIXES):
            problem = _xml_prolog_problem(archive, entry)
            if problem == "doctype":
                message = _(
                    "%(file)s: its part %(part)s declares a document type (DTD), which Office "
                    "never writes and which can hide an XML entity bomb; refused."
                )
            elif problem == "long":
                message = _(
                    "%(file)s: its part %(part)s has no first element in its first %(kb)s KB, "
                    "where Office writes it; refused."
                )
            else:
                continue
            raise ValidationError(
                message
                % {"file": filename, "part": entry.filename, "kb": XML_PROLOG_MAX_BYTES // 1024},
                code="xml_dtd",
            )
    names = [entry.filename for entry in entries]
    for prefix, content_type in OFFICE_TYPES.items():
        if "[Content_Types].xml" in names and any(name.startswith(prefix) for name in names):
            return content_type
    raise ValidationError(
        _("%(file)s is a ZIP archive, not an Office document.") % {"file": filename},
        code="bad_type",
    )


class _PrologEnd(Exception):
    pass


class _Doctype(Exception):
    pass


def _xml_prolog_problem(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> str:
    """What is wrong with the start of an XML part: "doctype" (a document type declaration),
    "long" (no first element within XML_PROLOG_MAX_BYTES, where one could hide) or "" (nothing).
    Only that much is decompressed; a part that is not XML at all is left to the program that
    opens it (no XML parser expands anything in it)."""

    def doctype(*args):
        raise _Doctype

    def element(*args):
        raise _PrologEnd

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = doctype
    parser.StartElementHandler = element
    try:
        with archive.open(entry) as part:
            parser.Parse(part.read(XML_PROLOG_MAX_BYTES), False)
    except _PrologEnd:
        return ""
    except _Doctype:
        return "doctype"
    except (expat.ExpatError, zipfile.BadZipFile, OSError, EOFError):
        return ""
    return "" if entry.file_size <= XML_PROLOG_MAX_BYTES else "long"  # all read: no DTD


def file_type_detect(file: IO[bytes], filename: str) -> str:
    """The content type of an upload by its first bytes; a ValidationError naming the file when
    it is none of the accepted kinds."""
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    for content_type, magic, offset in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return content_type
    if _webp(head):
        return "image/webp"
    if head.startswith(ZIP_MAGIC):
        content_type = _office_type(file, filename)
        file.seek(0)
        return content_type
    raise ValidationError(
        _(
            "%(file)s is not an accepted kind of file: PDF, PNG, JPEG, GIF, WebP, MP4, "
            "Word, Excel or PowerPoint (checked by its content, not its name)."
        )
        % {"file": filename},
        code="bad_type",
    )


def file_store(*, instance: UploadedFileFields, upload: File) -> None:
    """Check an upload and put it on `instance` (not saved): size first, then type by content;
    the stored name is the checksum, the user's name is kept for the download."""
    filename = os.path.basename(upload.name or "file")[-255:]
    limit = settings.WORKSPACE_FILE_MAX_MB * 1024 * 1024
    if upload.size > limit:
        raise ValidationError(
            {
                "file": _("%(file)s is %(size)s MB; the limit is %(limit)s MB.")
                % {
                    "file": filename,
                    "size": round(upload.size / (1024 * 1024), 1),
                    "limit": settings.WORKSPACE_FILE_MAX_MB,
                }
            }
        )
    try:
        content_type = file_type_detect(upload, filename)
    except ValidationError as error:
        raise ValidationError({"file": error.messages}) from error
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    instance.filename = filename
    instance.size = upload.size
    instance.content_type = content_type
    instance.sha256 = digest.hexdigest()
    instance.file.save(instance.sha256, upload, save=False)


def file_download_response(instance: UploadedFileFields) -> FileResponse:
    """The file as an attachment under its original name. Call only after the access check."""
    response = FileResponse(
        instance.file.open("rb"),
        as_attachment=True,
        filename=instance.filename or "file",
        content_type=instance.content_type or "application/octet-stream",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
