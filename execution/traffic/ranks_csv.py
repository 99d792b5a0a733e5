"""Reading a keyword-rank CSV: columns date, item id, keyword, rank (English or Chinese headers),
in UTF-8, UTF-8 with a BOM, or GBK/GB18030 as Chinese tools save it. Every row is checked and
every problem reported with its row, column and value; the caller writes nothing unless the
whole file is good. A blank rank, "-" or "--" means "not found in the positions checked".
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_ERRORS = 20
RANK_MAX = 10_000

HEADERS = {
    "date": {"date", "日期", "统计日期", "查询日期"},
    "item_id": {"item id", "item_id", "itemid", "商品id", "宝贝id", "商品编号"},
    "keyword": {"keyword", "关键词", "搜索词"},
    "rank": {"rank", "排名", "搜索排名", "名次"},
}
NO_RANK = {"", "-", "--", "—", "未找到", "not found"}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d")


class RankFileError(ValidationError):
    """The file cannot be imported; `messages` say why, row by row."""


@dataclass(frozen=True)
class RankRow:
    line: int  # the row number as a spreadsheet shows it (the header is row 1)
    date: datetime.date
    item_id: str
    keyword: str
    rank: int | None


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RankFileError(_("The file is neither UTF-8 nor GBK text; save it as CSV (UTF-8)."))


def _normal(header: str) -> str:
    return re.sub(r"\s+", " ", header.strip().lower().replace("\ufeff", ""))


def _date(text: str) -> datetime.date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def rank_rows_parse(upload, *, today: datetime.date) -> list[RankRow]:
    """The rows of a rank CSV, or a RankFileError listing every problem found (up to 20)."""
    if upload.size > MAX_BYTES:
        raise RankFileError(
            _("The file is %(size)s MB; the limit for a rank file is %(limit)s MB.")
            % {"size": round(upload.size / (1024 * 1024), 1), "limit": MAX_BYTES // (1024 * 1024)}
        )
    upload.seek(0)
    text = _decode(upload.read())
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise RankFileError(_("The file is empty."))
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        for column, spellings in HEADERS.items():
            if _normal(name) in spellings and column not in positions:
                positions[column] = index
    missing = [column for column in HEADERS if column not in positions]
    if missing:
        raise RankFileError(
            _(
                "The header row lacks the column(s) %(columns)s; expected date, item id, "
                "keyword, rank."
            )
            % {"columns": ", ".join(missing)}
        )
    # Problems name the column as the file heads it (日期 or date).
    heading = {
        column: header[index].strip().lstrip("\ufeff") for column, index in positions.items()
    }
    errors: list[str] = []
    rows: list[RankRow] = []
    seen: dict[tuple, int] = {}

    def problem(line: int, column: str, value: str, reason: str) -> None:
        errors.append(
            _("Row %(row)s, column %(column)s, value “%(value)s”: %(reason)s")
            % {"row": line, "column": column, "value": value[:60], "reason": reason}
        )

    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(_("The file has more than %(max)s rows.") % {"max": MAX_ROWS})
            break
        cells = cells + [""] * (len(header) - len(cells))
        value = {column: cells[index].strip() for column, index in positions.items()}
        day = _date(value["date"])
        ok = True
        if day is None:
            problem(line, heading["date"], value["date"], _("not a date (use 2026-11-01)."))
            ok = False
        elif day > today:
            problem(line, heading["date"], value["date"], _("the date is in the future."))
            ok = False
        item_id = value["item_id"]
        if not item_id.isdigit() or len(item_id) > 40:
            problem(line, heading["item_id"], item_id, _("not a Tmall item id (digits only)."))
            ok = False
        keyword = " ".join(value["keyword"].split())
        if not keyword:
            problem(line, heading["keyword"], value["keyword"], _("the keyword is empty."))
            ok = False
        rank: int | None = None
        if value["rank"].lower() not in NO_RANK:
            try:
                rank = int(value["rank"].replace(",", ""))
            except ValueError:
                rank = 0
            if not 1 <= rank <= RANK_MAX:
                problem(
                    line,
                    heading["rank"],
                    value["rank"],
                    _("not a rank between 1 and %(max)s (leave it blank for not found).")
                    % {"max": RANK_MAX},
                )
                ok = False
        if ok:
            key = (day, item_id, keyword)
            if key in seen:
                problem(
                    line,
                    heading["keyword"],
                    keyword,
                    _("the same date, item and keyword are already on row %(row)s.")
                    % {"row": seen[key]},
                )
                continue
            seen[key] = line
            rows.append(RankRow(line, day, item_id, keyword, rank))
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise RankFileError(errors[:MAX_ERRORS])
    if not rows:
        raise RankFileError(_("The file holds no rows of ranks."))
    return rows
