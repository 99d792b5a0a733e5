"""Hostile upload files, built in memory in well under a second each, for the security figures
(tests/test_security_figures.py).

- `zip_bomb`: one entry of 1 GiB of zeros deflated to about 1 MB (1000 to 1). The deflate stream
  is one compressed megabyte of zeros repeated: after a full flush the compressor starts afresh,
  so every megabyte compresses to the same bytes, and the archive is written by hand around them
  (a correct CRC and sizes: the archive is valid, it would really expand to 1 GiB).
- `office_bomb`: the same entry inside an otherwise real workbook (XLSX) or document (DOCX).
- `billion_laughs_xlsx`: a real workbook whose sheet XML (or shared strings) declares nested
  entities that would expand to 10^9 "lol"s.
- `many_entries_zip`: 100,000 empty entries (stored, written by hand: zipfile takes seconds).
- `png`, `exe`: a real PNG, and the start of a Windows program, to be named .csv / .xlsx.
- `png_pixel_bomb`: a 140 KB PNG of 144 million pixels (an image decompression bomb).
- `gbk_claiming_utf8`: a 生意参谋 CSV in GBK behind a UTF-8 byte-order mark.
- `large_csv`: a valid store-overview CSV of the given size.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib

import openpyxl

from tests.images import png_bytes

MB = 1024 * 1024
_DOS_TIME, _DOS_DATE = 0, (2026 - 1980) << 9 | 1 << 5 | 1  # 2026-01-01 00:00


@functools.cache
def _deflated_zeros(megabytes: int) -> tuple[bytes, int]:
    """(raw deflate stream, CRC-32) of `megabytes` MiB of zeros."""
    zeros = bytes(MB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    stream = block * megabytes + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    return stream, crc


def _zip(entries: list[tuple[str, bytes, int, int, int]], declared: int | None = None) -> bytes:
    """A ZIP archive from (name, stored bytes, method, CRC-32, uncompressed size) entries;
    `declared`: the entry count its end record states, when it should lie."""
    out, directory = io.BytesIO(), io.BytesIO()
    for name, data, method, crc, size in entries:
        encoded = name.encode()
        offset = out.tell()
        fields = (20, 0, method, _DOS_TIME, _DOS_DATE, crc, len(data), size, len(encoded), 0)
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields) + encoded)
        out.write(data)
        directory.write(
            struct.pack(
                "<4s6H3L5H2L",
                b"PK\x01\x02",
                20,
                *fields,
                0,  # comment length
                0,  # disk number
                0,  # internal attributes
                0,  # external attributes
                offset,
            )
            + encoded
        )
    start, central = out.tell(), directory.getvalue()
    out.write(central)
    count = len(entries) if declared is None else declared
    if count > 0xFFFF:  # ZIP64: the end record's 16-bit count cannot hold it
        end64 = out.tell()
        out.write(
            struct.pack(
                "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count, len(central), start
            )
        )
        out.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, end64, 1))
        count = 0xFFFF
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), start, 0))
    return out.getvalue()


def _stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int]:
    return name, data, zipfile.ZIP_STORED, zlib.crc32(data), len(data)


def _bomb_entry(name: str, megabytes: int) -> tuple[str, bytes, int, int, int]:
    stream, crc = _deflated_zeros(megabytes)
    return name, stream, zipfile.ZIP_DEFLATED, crc, megabytes * MB


def zip_bomb(member: str = "店铺概况.csv", megabytes: int = 1024) -> bytes:
    """A ZIP of one entry that expands to `megabytes` MiB of zeros."""
    return _zip([_bomb_entry(member, megabytes)])


def workbook_bytes(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


ORDER_ROWS = [
    ["订单编号", "买家会员名", "付款时间", "实付金额"],
    ["1001", "buyer-a", "2026-03-01 10:00:00", 99.5],
]
OVERVIEW_ROWS = [["统计日期", "访客数", "支付金额", "支付买家数"], ["2026-09-01", 100, 200.0, 3]]


def _parts(workbook: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


def office_bomb(kind: str = "xlsx", megabytes: int = 1024) -> bytes:
    """A real workbook (its parts from openpyxl) or a minimal DOCX, plus one part that expands
    to `megabytes` MiB: to every check before decompression, an Office file."""
    if kind == "xlsx":
        parts = _parts(workbook_bytes(OVERVIEW_ROWS))
        bomb = "xl/media/image1.bin"
    else:
        parts = [
            ("[Content_Types].xml", b'<?xml version="1.0"?><Types/>'),
            ("word/document.xml", b'<?xml version="1.0"?><document/>'),
        ]
        bomb = "word/media/image1.bin"
    return _zip([*(_stored(name, data) for name, data in parts), _bomb_entry(bomb, megabytes)])


LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n'
        % (level, (b"&lol%d;" % (level - 1) if level > 1 else b"&lol;") * 10)
        for level in range(1, 10)
    )
    + b"]>\n"
)


SST = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_RELATION = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def billion_laughs_xlsx(rows=None, part: str = "sheet") -> bytes:
    """A real workbook whose sheet XML (part="sheet") or shared strings (part="strings") declares
    the billion laughs (ten levels of entities, each ten of the level below) and uses it in a
    cell below the data."""
    parts = dict(_parts(workbook_bytes(rows or OVERVIEW_ROWS)))
    sheet = parts["xl/worksheets/sheet1.xml"]
    sheet = sheet.split(b"?>", 1)[1] if sheet.startswith(b"<?xml") else sheet
    if part == "sheet":
        cell = b'<c r="A99" t="inlineStr"><is><t>&lol9;</t></is></c>'
        sheet = LAUGHS + sheet
    else:
        cell = b'<c r="A99" t="s"><v>0</v></c>'
        parts["xl/sharedStrings.xml"] = LAUGHS + (
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
            b'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
        )
        parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
            b"</Types>",
            b'<Override PartName="/xl/sharedStrings.xml" ContentType="' + SST + b'"/></Types>',
        )
        parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
            b"</Relationships>",
            b'<Relationship Id="rIdStrings" Type="'
            + SST_RELATION
            + b'" Target="sharedStrings.xml"/></Relationships>',
        )
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        b"</sheetData>", b'<row r="99">' + cell + b"</row></sheetData>"
    )
    return _zip([_stored(name, data) for name, data in parts.items()])


def many_entries_zip(count: int = 100_000, office: bool = False, declared=None) -> bytes:
    """`count` empty entries; with `office`, named as the parts of a workbook would be; with
    `declared`, an end record that understates the count (its central directory holds all)."""
    names = ["[Content_Types].xml", "xl/workbook.xml"] if office else []
    names += [f"xl/part{n}.xml" if office else f"{n}.csv" for n in range(count - len(names))]
    return _zip([_stored(name, b"") for name in names], declared)


def png() -> bytes:
    return png_bytes()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_pixel_bomb(side: int = 12_000) -> bytes:
    """A valid grey PNG of side × side pixels (144 million by default, under the 178 million at
    which Pillow refuses to open an image), about 140 KB: a logo that decodes to 144 MB, or
    576 MB as RGBA, wherever it is drawn."""
    row = bytes(1 + side)  # filter byte 0, then the row's pixels
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)  # 8-bit grey
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


def exe() -> bytes:
    """The first bytes of a Windows program (a DOS stub and a PE header)."""
    return (
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
        + b"\x00" * 44
        + b"\x80\x00\x00\x00"
        + b"This program cannot be run in DOS mode.\r\r\n$"
        + b"\x00" * 20
        + b"PE\x00\x00"
        + b"\x00" * 200
    )


GBK_OVERVIEW = (
    "统计日期,访客数,支付金额,支付买家数\n2026-09-01,100,200.00,3\n2026-09-02,120,260.00,4\n"
)
GBK_ORDERS = "订单编号,买家会员名,付款时间,实付金额\n1001,张三,2026-03-01 10:00:00,99.50\n"


def gbk_claiming_utf8(text: str = GBK_OVERVIEW) -> bytes:
    """GBK bytes behind a UTF-8 byte-order mark: the file says UTF-8 and is not."""
    return b"\xef\xbb\xbf" + text.encode("gbk")


def large_csv(megabytes: int = 60) -> bytes:
    """A valid store-overview CSV of `megabytes` MiB (one row per day, repeating dates)."""
    header = "统计日期,访客数,支付金额,支付买家数\n".encode()
    row = b"2026-09-01,100,200.00,3\n"
    return header + row * ((megabytes * MB - len(header)) // len(row) + 1)
