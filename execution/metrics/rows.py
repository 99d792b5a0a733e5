"""Rows given as mappings (the JSON push, connectors) checked and turned into writer frames.

The same rules as for files: every field named by the grain, dates that parse, counts that are
whole and not negative, money exact and not negative, no duplicate key; unknown fields are
ignored and listed. Errors name the row as the sender counts it (1 = the first row) and the field.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

import pandas as pd
from django.utils.translation import gettext as _

from execution.metrics.schema import GRAINS, AdTool

MAX_ERRORS = 1000
MONEY_LIMIT = Decimal(10) ** 12  # Decimal(14, 2)
COUNT_LIMIT = 2**63  # bigint


@dataclass
class CheckedRows:
    grain: str
    frame: pd.DataFrame
    rows_read: int
    unknown_columns: list[str]
    errors: list[dict] = field(default_factory=list)
    errors_total: int = 0


def _as_date(value) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    from execution.metrics.parsing import parse_date

    return parse_date(value)


def _as_count(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        number = int(value)
    else:
        from execution.metrics.parsing import parse_count

        number = parse_count(str(value))
        if number is None:
            return None
    if number < 0:
        raise ArithmeticError
    if number >= COUNT_LIMIT:
        raise OverflowError
    return number


def _as_money(value) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    else:
        from execution.metrics.parsing import parse_decimal

        amount = parse_decimal(str(value))
        if amount is None:
            return None
    if amount < 0:
        raise ArithmeticError
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidOperation
    if amount >= MONEY_LIMIT:
        raise OverflowError
    return amount


def rows_check(grain: str, rows: Iterable[Mapping]) -> CheckedRows:
    """Check rows for a grain; the frame holds only valid rows, `errors` every problem."""
    spec = GRAINS[grain]
    known = {"date", *spec.key_fields, *spec.text_fields, *spec.metric_fields}
    errors: list[dict] = []
    errors_total = 0
    unknown: list[str] = []
    seen_keys: set[tuple] = set()
    records = []

    def fail(row: int, column: str, value, message: str) -> None:
        nonlocal errors_total
        errors_total += 1
        if len(errors) < MAX_ERRORS:
            errors.append({"row": row, "column": column, "value": str(value), "message": message})

    count = 0
    for count, raw in enumerate(rows, start=1):
        if not isinstance(raw, Mapping):
            fail(count, "", raw, _("a row must be an object of fields"))
            continue
        for name in raw:
            if name not in known and name not in unknown:
                unknown.append(name)
        before = errors_total
        record: dict = {"source_row": count}
        try:
            record["date"] = _as_date(raw.get("date"))
        except (TypeError, ValueError):
            fail(count, "date", raw.get("date", ""), _("not a date"))
        for name in spec.key_fields:
            value = raw.get(name, "")
            value = "" if value is None else str(value).strip()
            if name == "ad_tool" and value not in AdTool.values:
                fail(count, name, value, _("not a known ad tool"))
            # Every key is required but the product of an ad row (most ad reports have none).
            if not value and not (grain == "store_day_ad" and name == "item_id"):
                fail(count, name, value, _("missing"))
            record[name] = value
        for name in spec.text_fields:
            record[name] = str(raw.get(name) or "").strip()
        for name in spec.count_fields:
            if name not in raw:
                continue
            try:
                record[name] = _as_count(raw[name])
            except OverflowError:
                fail(count, name, raw[name], _("too large for a count"))
            except ArithmeticError:
                fail(count, name, raw[name], _("negative count"))
            except (TypeError, ValueError):
                fail(count, name, raw[name], _("not a whole number"))
        for name in spec.money_fields:
            if name not in raw:
                continue
            try:
                record[name] = _as_money(raw[name])
            except InvalidOperation:
                fail(count, name, raw[name], _("more than two decimal places"))
            except OverflowError:
                fail(count, name, raw[name], _("too large for an amount"))
            except ArithmeticError:
                fail(count, name, raw[name], _("negative amount"))
            except (TypeError, ValueError):
                fail(count, name, raw[name], _("not a number"))
        if errors_total != before:
            continue
        key = (record["date"], *(record[name] for name in spec.key_fields))
        if key in seen_keys:
            fail(count, "date", record["date"], _("duplicate key: this row repeats an earlier one"))
            continue
        seen_keys.add(key)
        records.append(record)
    columns = ["source_row", "date", *spec.key_fields, *spec.text_fields, *spec.metric_fields]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for name in spec.count_fields:
        frame[name] = frame[name].astype("Int64")
    present = [c for c in columns if c in {"source_row", "date"} or frame[c].notna().any()]
    present += [c for c in [*spec.key_fields, *spec.text_fields] if c not in present]
    return CheckedRows(
        grain=grain,
        frame=frame[[c for c in columns if c in present]],
        rows_read=count,
        unknown_columns=unknown,
        errors=errors,
        errors_total=errors_total,
    )
