"""Opening an export file: CSV, XLSX, binary XLS, HTML "XLS", or a ZIP holding one of them.

A file is checked against its name before anything is decoded (a PNG named `.xlsx` is refused),
and an archive against `ArchiveLimits` from its central directory before any entry is opened
(OWASP ASVS 5.2.3); the text encoding of a CSV is found here too. The result is a `tables.Table`.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import re
import shutil
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from .errors import ReportError
from .tables import BLOCK, CsvTable, HtmlTable, Opener, XlsTable, XlsxTable
from .values import gettext_noop

_HEAD_BYTES = 256 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    """Limits checked on a ZIP (and on an XLSX, which is one) before any entry is opened.

    The compression ratio is checked for entries that expand past `ratio_grace_bytes`: tiny XML
    parts of a workbook can compress far better than 100:1 and are harmless."""

    max_entries_xlsx: int = 100
    max_entries_zip: int = 1
    max_uncompressed_bytes: int = 500 * 1024 * 1024
    max_ratio: int = 100
    ratio_grace_bytes: int = 1024 * 1024


DEFAULT_LIMITS = ArchiveLimits()
# Entries beyond the limit that the end record may declare (folders, macOS resource forks),
# and the directory bytes an entry may take (46 bytes, its name and extra fields).
ZIP_EXTRA_ENTRIES = 16
ZIP_DIRECTORY_BYTES_PER_ENTRY = 1024

_MAGIC = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"%PDF", "pdf"),
    (b"Rar!", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"),
)
_WHAT = {
    "zip": gettext_noop("a ZIP archive"),
    "ole": gettext_noop("an old Excel (.xls) or other Office file"),
    "png": gettext_noop("a PNG image"),
    "jpeg": gettext_noop("a JPEG image"),
    "gif": gettext_noop("a GIF image"),
    "pdf": gettext_noop("a PDF document"),
    "rar": gettext_noop("a RAR archive"),
    "7z": gettext_noop("a 7-Zip archive"),
    "gzip": gettext_noop("a gzip archive"),
    "html": gettext_noop("a web page (HTML)"),
    "text": gettext_noop("plain text"),
    "binary": gettext_noop("binary data"),
}
_HTML_START = re.compile(rb"^\s*<(?:!doctype\s+html|html|table|meta|head|\?xml)", re.IGNORECASE)
_CHARSET = re.compile(rb"charset\s*=\s*[\"']?([A-Za-z0-9_-]+)", re.IGNORECASE)


def sniff(head: bytes) -> str:
    """What the first bytes of a file say it is: zip, ole, png, ..., html, text or binary."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    if b"\x00" in head[:8192]:
        return "binary"
    body = (head[3:] if head.startswith(codecs.BOM_UTF8) else head).lstrip()
    if _HTML_START.match(body) or (
        body.startswith(b"<") and re.search(rb"<table[\s>]", body[:8192], re.IGNORECASE)
    ):
        return "html"
    return "text"


def _refuse(filename: str, expected: str, found: str) -> ReportError:
    return ReportError(
        _("%(file)s is not %(expected)s: the file is %(found)s.")
        % {"file": filename, "expected": expected, "found": _(_WHAT.get(found, found))}
    )


_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")


def zip_end_record(handle) -> tuple[int, int] | None:
    """(entries, size in bytes of the central directory) as a ZIP's end record states them,
    read from the file's last 64 KB, before zipfile parses the directory (it builds an object
    per entry first: seconds and tens of MB for 100,000 of them). None when there is no end
    record (zipfile then says what is wrong). zipfile reads exactly the stated directory size,
    so bounding it bounds zipfile's work even when the count is understated."""
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - _END.size - 0xFFFF))  # the record, then at most a 64 KB comment
    tail = handle.read()
    at = tail.rfind(b"PK\x05\x06")
    found = None
    if at >= 0 and len(tail) - at >= _END.size:
        record = _END.unpack_from(tail, at)
        found = (record[4], record[5])
        locator = at - _END64_LOCATOR.size
        zip64 = 0xFFFF in record[1:5] or 0xFFFFFFFF in record[5:7]  # in a record of its own
        if zip64 and locator >= 0:
            signature, _disk, offset, _disks = _END64_LOCATOR.unpack_from(tail, locator)
            if signature == b"PK\x06\x07" and offset < size:
                handle.seek(offset)
                record = handle.read(_END64.size)
                if len(record) == _END64.size and record.startswith(b"PK\x06\x06"):
                    found = _END64.unpack(record)[7:9]
    handle.seek(0)
    return found


def check_end_record(handle, filename: str, max_entries: int) -> None:
    """Refuse, from the end record alone, an archive far beyond `max_entries`: more than twice
    the limit (folders and macOS resource forks, which the full count leaves out, take the
    room), or a directory longer than so many entries can need."""
    declared = zip_end_record(handle)
    if declared is None:
        return
    count, directory = declared
    room = 2 * max_entries + ZIP_EXTRA_ENTRIES
    if count > room:
        raise _too_many_entries(filename, count, max_entries)
    if directory > room * ZIP_DIRECTORY_BYTES_PER_ENTRY:
        raise ReportError(
            _("%(file)s has a list of files of %(size)d KB, too long for the %(limit)d accepted.")
            % {"file": filename, "size": directory // 1024, "limit": max_entries}
        )


def _too_many_entries(filename: str, count: int, limit: int) -> ReportError:
    return ReportError(
        _("%(file)s holds %(count)d files; at most %(limit)d are accepted.")
        % {"file": filename, "count": count, "limit": limit}
    )


def check_archive(archive: zipfile.ZipFile, filename: str, limits: ArchiveLimits, max_entries):
    """Entry count, total and per-entry expansion from the central directory (OWASP ASVS 5.2.3).
    Returns the file entries (directories and macOS resource forks left out)."""
    entries = [
        info
        for info in archive.infolist()
        if not info.is_dir() and not info.filename.startswith("__MACOSX/")
    ]
    if len(entries) > max_entries:
        raise _too_many_entries(filename, len(entries), max_entries)
    total = sum(info.file_size for info in archive.infolist())
    if total > limits.max_uncompressed_bytes:
        raise ReportError(
            _("%(file)s would expand to %(size)d MB, more than the %(limit)d MB accepted.")
            % {
                "file": filename,
                "size": total // 2**20,
                "limit": limits.max_uncompressed_bytes // 2**20,
            }
        )
    for info in archive.infolist():
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > limits.ratio_grace_bytes and ratio > limits.max_ratio:
            raise ReportError(
                _(
                    "%(file)s: %(entry)s is compressed %(ratio)d to 1, more than the %(limit)d "
                    "to 1 accepted (a ZIP bomb?)."
                )
                % {
                    "file": filename,
                    "entry": info.filename,
                    "ratio": ratio,
                    "limit": limits.max_ratio,
                }
            )
    return entries


def _detect_encoding(opener: Opener, filename: str) -> str:
    """UTF-8 (a BOM allowed) when the whole file decodes strictly as UTF-8, else GB18030 (a
    superset of GBK and GB2312). A file that starts with the UTF-8 byte-order mark says it is
    UTF-8: when it is not, it is refused, rather than read in another encoding past its own
    mark (GBK bytes behind a BOM would come out as wrong characters, not as an error)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    done, marked = 0, None
    with opener() as handle:
        while True:
            block = handle.read(BLOCK)
            if marked is None:
                marked = block.startswith(codecs.BOM_UTF8)
            pending = len(decoder.getstate()[0])  # bytes of a character cut by the last block
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                if marked:
                    raise ReportError(
                        _(
                            "%(file)s starts with the UTF-8 mark (BOM) but is not UTF-8 text: "
                            "byte %(offset)d is not valid UTF-8 (is the file in GBK?). Save it "
                            "again as UTF-8, or as GBK without the UTF-8 mark."
                        )
                        % {"file": filename, "offset": done - pending + exc.start + 1}
                    ) from exc
                return "gb18030"
            if not block:
                return "utf-8-sig"
            done += len(block)


def _head(opener: Opener) -> tuple[bytes, bool]:
    with opener() as handle:
        head = handle.read(_HEAD_BYTES)
        return head, len(head) < _HEAD_BYTES or not handle.read(1)


def _html_encoding(head: bytes, opener: Opener, filename: str) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    declared = _CHARSET.search(head[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        if name in ("gbk", "gb2312", "gb18030", "cp936", "x-gbk"):
            return "gb18030"
        if name in ("utf-8", "utf8"):
            return "utf-8-sig"
    return _detect_encoding(opener, filename)


def _zip_members(opener: Opener, filename: str, limits: ArchiveLimits, max_entries: int):
    with opener() as handle:
        check_end_record(handle, filename, max_entries)
        try:
            with zipfile.ZipFile(handle) as archive:
                return check_archive(archive, filename, limits, max_entries), archive.namelist()
        except zipfile.BadZipFile as exc:
            raise ReportError(
                _("%(file)s is a damaged ZIP archive (%(reason)s).")
                % {"file": filename, "reason": exc}
            ) from exc


def _xlsx_table(filename: str, opener: Opener, limits: ArchiveLimits) -> XlsxTable:
    names = _zip_members(opener, filename, limits, limits.max_entries_xlsx)[1]
    if "xl/workbook.xml" not in names:
        raise ReportError(
            _("%(file)s is not an Excel workbook: the ZIP archive holds no workbook.")
            % {"file": filename}
        )
    return XlsxTable(filename, opener)


def _member_opener(outer: Opener, filename: str, member: str, spool: bool) -> Opener:
    """Opens one entry of a ZIP: a CSV streams from the archive; a workbook is copied out to a
    spooled temporary file first, since its readers need to seek."""

    @contextlib.contextmanager
    def open_member():
        try:
            with (
                outer() as handle,
                zipfile.ZipFile(handle) as archive,
                archive.open(member) as entry,
            ):
                if not spool:
                    yield entry
                    return
                with tempfile.SpooledTemporaryFile(max_size=32 * 2**20) as copy:
                    shutil.copyfileobj(entry, copy, BLOCK)
                    copy.seek(0)
                    yield copy
        except zipfile.BadZipFile as exc:  # a CRC or size that the data belies
            raise ReportError(
                _("%(file)s is a damaged ZIP archive (%(reason)s).")
                % {"file": filename, "reason": exc}
            ) from exc

    return open_member


def open_table(filename: str, opener: Opener, limits: ArchiveLimits, nested: bool = False):
    """The table of a file, after checking that it is what its name says."""
    suffix = Path(filename).suffix.lower()
    head, complete = _head(opener)
    found = sniff(head)
    if suffix == ".csv":
        if found != "text":
            raise _refuse(filename, _("a CSV file"), found)
        return CsvTable(filename, opener, _detect_encoding(opener, filename), head, complete)
    if suffix in (".xlsx", ".xlsm"):
        if found != "zip":
            raise _refuse(filename, _("an Excel workbook (.xlsx)"), found)
        return _xlsx_table(filename, opener, limits)
    if suffix == ".xls":
        if found == "ole":
            return XlsTable(filename, opener)
        if found == "html":
            return HtmlTable(filename, opener, _html_encoding(head, opener, filename))
        if found == "zip":  # an .xlsx saved under the old extension
            return _xlsx_table(filename, opener, limits)
        raise _refuse(filename, _("an Excel workbook (.xls)"), found)
    if suffix == ".zip" and not nested:
        if found != "zip":
            raise _refuse(filename, _("a ZIP archive"), found)
        entries, _names = _zip_members(opener, filename, limits, limits.max_entries_zip)
        if not entries:
            raise ReportError(_("%(file)s is an empty ZIP archive.") % {"file": filename})
        member = entries[0].filename
        inner_suffix = Path(member).suffix.lower()
        if inner_suffix not in (".csv", ".xlsx", ".xlsm", ".xls"):
            raise ReportError(
                _("%(file)s holds %(member)s, which is not a CSV or Excel file.")
                % {"file": filename, "member": member}
            )
        inner = _member_opener(opener, filename, member, spool=inner_suffix != ".csv")
        return open_table(f"{filename}: {member}", inner, limits, nested=True)
    raise ReportError(
        _("%(file)s is not a supported file type: upload a CSV, XLSX, XLS or ZIP file.")
        % {"file": filename}
    )


def source_opener(source) -> Opener:
    """An opener for a path or a binary file object (read from its start each time)."""
    if isinstance(source, str | Path):
        path = Path(source)

        def open_path():
            return path.open("rb")

        return open_path
    if not (hasattr(source, "seekable") and source.seekable()):
        copy = tempfile.SpooledTemporaryFile(max_size=32 * 2**20)  # noqa: SIM115 - kept open
        shutil.copyfileobj(source, copy, BLOCK)
        source = copy

    @contextlib.contextmanager
    def open_file():
        source.seek(0)
        if isinstance(source, io.IOBase) or "b" in getattr(source, "mode", ""):
            yield source
        else:  # a Django File, say: pandas takes an object without `mode` for a text stream
            yield io.BufferedReader(_BinaryView(source), buffer_size=BLOCK)

    return open_file


class _BinaryView(io.RawIOBase):
    """A binary file-like object (read, seek, tell) as a standard raw stream; closing the view
    leaves the object open."""

    def __init__(self, handle):
        super().__init__()
        self._handle = handle

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._handle.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._handle.seek(offset, whence)
        return self._handle.tell()

    def tell(self) -> int:
        return self._handle.tell()
