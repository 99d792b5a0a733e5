"""Order imports: every format an order export comes in, every bad file named with what is wrong,
all or nothing, buyer ids hashed and never stored or shown, re-imports idempotent, the tiers
recomputed after a good import."""

import datetime
import logging
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from agency.tenancy import agency_scope
from engagements.lifecycle import Service, Stage
from execution.conversion.orders import buyer_key_function, order_import_upload
from execution.models import CustomerOrder, OrderImport, TierSnapshot

SECRET_BUYER = "秘密买家_9931"
ROWS = [
    ["3801", "张三", "2026-01-05 10:00:00", "¥100.00"],
    ["3802", SECRET_BUYER, "2026/1/20 9:30", "¥1,234.56"],
    ["3803", "张三", "2026-02-10 21:15:07", "300"],
]


def _import(engagement, upload, actor):
    with agency_scope(engagement.agency_id):
        record = order_import_upload(actor=actor, engagement=engagement, upload=upload)
        record.refresh_from_db()
        return record


def _orders(store):
    with agency_scope(store.agency_id):
        return list(
            CustomerOrder.objects.filter(store=store)
            .order_by("order_id")
            .values_list("order_id", "buyer_key", "paid_at", "amount", "order_import_id")
        )


def _local(*args):
    from zoneinfo import ZoneInfo

    return datetime.datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_csv_export_is_imported_with_hashed_buyers_local_times_and_exact_amounts(
    conversion_engagement, store_a, demo_manager, order_file
):
    record = _import(conversion_engagement, order_file(ROWS), demo_manager)
    assert record.status == OrderImport.Status.SUCCEEDED, record.message
    assert (record.rows_read, record.orders_written) == (3, 3)
    assert (record.date_start, record.date_end) == (
        datetime.date(2026, 1, 5),
        datetime.date(2026, 2, 10),
    )
    key = buyer_key_function(store_a.agency_id)
    orders = _orders(store_a)
    assert [(o[0], o[1], o[2], o[3]) for o in orders] == [
        ("3801", key("张三"), _local(2026, 1, 5, 10), Decimal("100.00")),
        ("3802", key(SECRET_BUYER), _local(2026, 1, 20, 9, 30), Decimal("1234.56")),
        ("3803", key("张三"), _local(2026, 2, 10, 21, 15, 7), Decimal("300.00")),
    ]
    assert len(orders[0][1]) == 64


def test_the_same_buyer_has_one_key_per_agency_and_another_in_another_agency(
    demo_agency, rival_agency
):
    demo, rival = buyer_key_function(demo_agency.pk), buyer_key_function(rival_agency.pk)
    assert demo("张三") == demo("张三") != rival("张三")
    assert demo("张三") != demo("李四")


def test_the_raw_buyer_id_is_stored_nowhere_logged_nowhere_shown_nowhere(
    conversion_engagement,
    store_a,
    demo_manager,
    order_file,
    client_for,
    caplog,
    django_capture_on_commit_callbacks,
):
    caplog.set_level(logging.DEBUG)
    bad_rows = [*ROWS, ["3804", SECRET_BUYER, "not a time", "12.00"]]
    with django_capture_on_commit_callbacks(execute=True):
        failed = _import(conversion_engagement, order_file(bad_rows), demo_manager)
        good = _import(conversion_engagement, order_file(ROWS), demo_manager)
    assert failed.status == OrderImport.Status.FAILED
    assert good.status == OrderImport.Status.SUCCEEDED
    # No column of any row of any table holds the raw id.
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 - table names from the database
            for row in cursor.fetchall():
                assert SECRET_BUYER not in repr(row), table
    assert SECRET_BUYER not in caplog.text
    client = client_for(demo_manager)
    for record in (failed, good):
        url = reverse(
            "conversion:order_import_detail",
            kwargs={
                "agency_slug": "demo",
                "engagement_id": conversion_engagement.pk,
                "conversion_import_id": record.pk,
            },
        )
        page = client.get(url).content.decode()
        assert SECRET_BUYER not in page
    tiers = client.get(
        reverse(
            "conversion:tiers",
            kwargs={"agency_slug": "demo", "engagement_id": conversion_engagement.pk},
        )
    )
    assert SECRET_BUYER not in tiers.content.decode()


def test_a_bad_row_names_file_row_column_value_and_reason_and_nothing_is_written(
    conversion_engagement, store_a, demo_manager, order_file
):
    rows = [
        ["4001", "张三", "2026-01-05 10:00:00", "100.00"],
        ["4002", "李四", "2026-13-45 10:00", "abc"],
        ["4003", "", "2026-01-07 10:00:00", "50.00"],
        ["4001", "王五", "2026-01-08 10:00:00", "-5"],
    ]
    record = _import(conversion_engagement, order_file(rows, name="bad.csv"), demo_manager)
    assert record.status == OrderImport.Status.FAILED
    assert "bad.csv" in record.message and "no order was imported" in record.message
    assert record.errors_total == 5
    assert [(e["row"], e["column"], e["value"]) for e in record.errors] == [
        (3, "付款时间", "2026-13-45 10:00"),
        (3, "实付金额", "abc"),
        (4, "买家会员名", ""),
        (5, "实付金额", "-5"),
        (5, "订单编号", "4001"),
    ]
    messages = [e["message"] for e in record.errors]
    assert messages[0].startswith("not a date and time")
    assert messages[1] == "not a number"
    assert messages[2] == "missing buyer id"
    assert messages[3] == "negative amount"
    assert messages[4] == "the same order id as row 2"
    assert _orders(store_a) == []
    assert record.orders_written == 0


def test_unpaid_orders_without_a_paid_time_are_skipped_and_counted(
    conversion_engagement, store_a, demo_manager, order_file
):
    rows = [*ROWS, ["3809", "李四", "", "0.00"], ["3810", "王五", "  ", ""]]
    record = _import(conversion_engagement, order_file(rows), demo_manager)
    assert record.status == OrderImport.Status.SUCCEEDED
    assert (record.rows_read, record.orders_written) == (5, 3)
    assert "unpaid or closed orders), skipped: 2." in record.message
    assert [o[0] for o in _orders(store_a)] == ["3801", "3802", "3803"]


def test_a_missing_column_is_named(conversion_engagement, demo_manager, order_file, store_a):
    upload = order_file([["1", "张三", "100"]], header=["订单编号", "买家会员名", "实付金额"])
    record = _import(conversion_engagement, upload, demo_manager)
    assert record.status == OrderImport.Status.FAILED
    assert "付款时间" in record.message and "订单报表.csv" in record.message
    assert _orders(store_a) == []


def test_an_empty_file_and_a_file_without_orders_are_refused(
    conversion_engagement, demo_manager, order_file
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    empty = _import(conversion_engagement, SimpleUploadedFile("empty.csv", b""), demo_manager)
    assert empty.status == OrderImport.Status.FAILED
    assert empty.message == "empty.csv is empty."
    header_only = _import(conversion_engagement, order_file([]), demo_manager)
    assert header_only.status == OrderImport.Status.FAILED
    assert "holds no paid orders" in header_only.message
    unknown = _import(
        conversion_engagement,
        SimpleUploadedFile("x.csv", "名称,数量\n苹果,3\n".encode()),
        demo_manager,
    )
    assert "no header row with the order columns" in unknown.message


def test_gbk_and_bom_csv_and_english_headers_are_read(
    conversion_engagement, store_a, demo_manager, order_file
):
    key = buyer_key_function(store_a.agency_id)
    gbk_rows = [["3801", "张三", "2026-01-05 10:00:00", "￥100.00"]]  # GBK writes the full-width ￥
    gbk = _import(conversion_engagement, order_file(gbk_rows, encoding="gbk"), demo_manager)
    assert gbk.status == OrderImport.Status.SUCCEEDED, gbk.message
    assert _orders(store_a)[0][1] == key("张三")  # decoded, not mojibake
    bom = _import(
        conversion_engagement,
        order_file([["5001", "李四", "2026-03-01 08:00:00", "88.80"]], encoding="utf-8-sig"),
        demo_manager,
    )
    assert bom.status == OrderImport.Status.SUCCEEDED, bom.message
    english = order_file(
        [["5002", "buyer-x", "2026/3/2 8:05", "1,000.5"]],
        header=["Order ID", "Buyer ID", "Paid time", "Amount (CNY)"],
    )
    record = _import(conversion_engagement, english, demo_manager)
    assert record.status == OrderImport.Status.SUCCEEDED, record.message
    assert _orders(store_a)[-1][3] == Decimal("1000.50")


def test_an_xlsx_with_title_lines_above_the_header(
    conversion_engagement, store_a, demo_manager, order_file
):
    upload = order_file(
        [
            ["6001", "张三", datetime.datetime(2026, 4, 1, 12, 0), 99.9],
            ["6002", "李四", "2026-04-02 13:00:00", "¥20.00"],
        ],
        header=["订单号", "买家昵称", "支付时间", "买家实际支付金额"],
        name="订单.xlsx",
        titles=["订单报表", "店铺：Brand A 旗舰店  2026-04-01 至 2026-04-30"],
    )
    record = _import(conversion_engagement, upload, demo_manager)
    assert record.status == OrderImport.Status.SUCCEEDED, (record.message, record.errors)
    assert [(o[0], o[2], o[3]) for o in _orders(store_a)] == [
        ("6001", _local(2026, 4, 1, 12), Decimal("99.90")),
        ("6002", _local(2026, 4, 2, 13), Decimal("20.00")),
    ]


def test_reimporting_changes_nothing_and_a_corrected_file_corrects(
    conversion_engagement, store_a, demo_manager, order_file
):
    first = _import(conversion_engagement, order_file(ROWS), demo_manager)
    before = _orders(store_a)
    again = _import(conversion_engagement, order_file(ROWS), demo_manager)
    assert again.status == OrderImport.Status.SUCCEEDED
    assert again.orders_written == 0
    assert "(new: 0, corrected: 0, unchanged: 3)" in again.message
    assert _orders(store_a) == before  # the rows still point at the first import
    corrected = [[*ROWS[2][:3], "280.00"], ["3805", "赵六", "2026-02-11 10:00:00", "66"]]
    fixed = _import(conversion_engagement, order_file(corrected), demo_manager)
    assert fixed.orders_written == 2
    assert "(new: 1, corrected: 1, unchanged: 0)" in fixed.message
    orders = {o[0]: o for o in _orders(store_a)}
    assert len(orders) == 4
    assert orders["3803"][3] == Decimal("280.00") and orders["3803"][4] == fixed.pk
    assert orders["3801"][4] == first.pk


def test_a_good_import_queues_the_tiers_after_the_commit(
    conversion_engagement, demo_manager, order_file, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        record = _import(conversion_engagement, order_file(ROWS), demo_manager)
    assert record.status == OrderImport.Status.SUCCEEDED
    assert callbacks
    with agency_scope(conversion_engagement.agency_id):
        months = set(
            TierSnapshot.objects.filter(engagement=conversion_engagement).values_list(
                "month", flat=True
            )
        )
    assert months == {datetime.date(2026, 1, 1), datetime.date(2026, 2, 1)}


def test_a_file_over_the_size_limit_is_refused_unread(
    conversion_engagement, demo_manager, order_file, settings, store_a
):
    settings.ORDER_IMPORT_MAX_MB = 0
    record = _import(conversion_engagement, order_file(ROWS), demo_manager)
    assert record.status == OrderImport.Status.FAILED
    assert "at most 0 MB" in record.message
    assert _orders(store_a) == []


def test_a_closed_workspace_or_scope_refuses_the_import(
    engagement_a, make_engagement, store_a, demo_manager, order_file
):
    with pytest.raises(ValidationError, match="workspace opens"):
        _import(engagement_a, order_file(ROWS), demo_manager)
    traffic_only = make_engagement(
        store_a, demo_manager, stage=Stage.TRAFFIC, services=[Service.TRAFFIC]
    )
    with pytest.raises(ValidationError, match="not in this engagement's scope"):
        _import(traffic_only, order_file(ROWS), demo_manager)
    with agency_scope(store_a.agency_id):
        assert not OrderImport.objects.exists()


def test_upload_page_flow_and_brand_users_kept_out(
    conversion_engagement, demo_manager, brand_a_owner, order_file, client_for
):
    kwargs = {"agency_slug": "demo", "engagement_id": conversion_engagement.pk}
    client = client_for(demo_manager)
    response = client.post(
        reverse("conversion:order_import", kwargs=kwargs),
        {"file": order_file([["7001", "张三", "2026-05-01 10:00:00", "abc"]])},
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "not a number" in page and "实付金额" in page and "abc" in page
    assert "Failed" in page
    no_file = client.post(reverse("conversion:order_import", kwargs=kwargs), {})
    assert no_file.status_code == 200 and "This field is required" in no_file.content.decode()
    owner = client_for(brand_a_owner)
    assert owner.post(reverse("conversion:order_import", kwargs=kwargs), {}).status_code == 404
    detail = response["Location"]
    assert owner.get(detail).status_code == 404
