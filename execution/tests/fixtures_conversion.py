"""Fixtures of the conversion area of the execution workspace."""

import datetime
from decimal import Decimal

import pytest

from agency.tenancy import agency_scope
from execution.models import Offer, OfferKind, OrderImport


@pytest.fixture
def conversion_url_arguments(engagement_a, demo_manager) -> dict:
    """Brand A objects for the conversion URLs (tests/test_isolation.py). Each call makes a
    fresh object, so a route that deletes one leaves the next route its own."""

    def offer() -> int:
        with agency_scope(engagement_a.agency_id):
            return Offer.objects.create(
                engagement=engagement_a,
                name="双11 满300减50",
                kind=OfferKind.FULL_REDUCTION,
                threshold=Decimal(300),
                discount=Decimal(50),
                start_date=datetime.date(2026, 11, 1),
                end_date=datetime.date(2026, 11, 11),
            ).pk

    def order_import() -> int:
        with agency_scope(engagement_a.agency_id):
            return OrderImport.objects.create(
                engagement=engagement_a,
                filename="orders.csv",
                status=OrderImport.Status.FAILED,
                errors=[
                    {"row": 3, "column": "实付金额", "value": "abc", "message": "not a number"}
                ],
                errors_total=1,
                created_by=demo_manager.user,
            ).pk

    return {
        "conversion_offer_id": offer,
        "conversion_import_id": order_import,
        "conversion_tier": lambda: "high_value",
    }


@pytest.fixture
def conversion_engagement(make_engagement, store_a, demo_manager):
    """Brand A's engagement with its workspace open (at step 5), full scope."""
    from engagements.lifecycle import Stage

    return make_engagement(store_a, demo_manager, stage=Stage.CONVERSION, title="Brand A 转化")


@pytest.fixture
def order_file():
    """An uploaded order export: `order_file(rows, header=..., name=..., encoding=...)` with
    rows as lists of cells (CSV) or, for a name ending .xlsx, a workbook with title lines."""
    import csv
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    header_zh = ["订单编号", "买家会员名", "付款时间", "实付金额"]

    def make(rows, *, header=None, name="订单报表.csv", encoding="utf-8", titles=()):
        header = header or header_zh
        if name.endswith(".xlsx"):
            import openpyxl

            book = openpyxl.Workbook()
            sheet = book.active
            for title in titles:
                sheet.append([title])
            sheet.append(header)
            for row in rows:
                sheet.append(row)
            buffer = io.BytesIO()
            book.save(buffer)
            return SimpleUploadedFile(name, buffer.getvalue())
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        for title in titles:
            writer.writerow([title])
        writer.writerow(header)
        writer.writerows(rows)
        return SimpleUploadedFile(name, text.getvalue().encode(encoding))

    return make
