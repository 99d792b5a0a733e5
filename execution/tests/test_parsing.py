"""The export-file parser (execution.metrics.parsing): every shape of file the agencies download,
and every way a file or a row can be wrong. No database: files are written by the tests
(bytes in memory), except the shared samples and one binary .xls fixture (tests/data)."""

from __future__ import annotations

import dataclasses
import datetime
import io
import json
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from execution.metrics.parsing import (
    MAX_ERRORS,
    ArchiveLimits,
    ReportError,
    RowError,
    parse_count,
    parse_date,
    parse_decimal,
    parse_report,
)
from execution.metrics.parsing.values import (
    Problem,
    amounts_of,
    convert_amounts,
    convert_counts,
    plain_amounts,
    strings,
)
from execution.metrics.schema import AdTool, Grain, ReportKind

DATA = Path(__file__).resolve().parent / "data"
MONEY = {"gmv", "refund_amount", "ad_spend", "ad_gmv"}


def _samples_dir() -> Path:
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "shared" / "samples", here.parents[2].parent / "shared"):
        folder = candidate if candidate.name == "samples" else candidate / "samples"
        if (folder / "expected.json").is_file():
            return folder
    raise AssertionError(
        f"shared/samples not found beside the repository (looked above {here.parents[2]}); "
        "the parser's tests need the shared sample exports"
    )


def read(report) -> pd.DataFrame:
    frames = list(report.frames())
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def parse(data: bytes, filename: str, **options):
    return parse_report(io.BytesIO(data), filename=filename, **options)


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def total(frame: pd.DataFrame, name: str):
    if name in MONEY:
        return sum((Decimal(v) for v in frame[name].dropna()), Decimal(0))
    return int(frame[name].sum())


STORE = "统计日期,访客数,浏览量,支付金额,支付买家数,支付转化率,客单价,支付子订单数,跳失率"
ZHITONGCHE = (
    "日期,计划名称,展现量,点击量,点击率,花费(元),平均点击花费,总成交金额,总成交笔数,投入产出比"
)
WANXIANGTAI = "日期,计划名称,商品ID,商品名称,展现量,点击量,消耗,总成交金额,总成交笔数,投入产出比"
YINLIMOFANG = "日期,计划名字,展现量,点击量,消耗(元),成交金额,成交笔数,实际投产比"
PRODUCTS = (
    "统计日期,商品ID,商品名称,商品访客数,商品浏览量,支付买家数,支付件数,支付金额,商品收藏买家数"
)
SOURCES = "统计日期,流量来源,访客数,支付买家数,支付金额,支付新买家数,加购人数,浏览量"


# --- the shared samples -----------------------------------------------------------------------

SAMPLE_GRAINS = {"store-day": Grain.STORE_DAY, "store-day-ad-campaign": Grain.STORE_DAY_AD}


def _expected() -> dict:
    return json.loads((_samples_dir() / "expected.json").read_text(encoding="utf-8"))


def test_every_sample_has_expected_totals():
    files = {p.name for p in _samples_dir().iterdir() if p.suffix in (".csv", ".xlsx", ".xls")}
    assert files and files == set(_expected())


@pytest.mark.parametrize("name", sorted(_expected()))
def test_sample_parses_to_the_expected_totals(name):
    expected = _expected()[name]
    report = parse_report(_samples_dir() / name, filename=name)
    frame = read(report)

    assert report.grain == SAMPLE_GRAINS[expected["grain"]]
    assert report.errors == [] and report.errors_total == 0
    for metric, value in expected["totals"].items():
        assert total(frame, metric) == (Decimal(value) if metric in MONEY else value), metric
    if "days" in expected:
        assert frame["date"].nunique() == expected["days"] == len(frame)
    if "rows" in expected:
        assert len(frame) == expected["rows"] == report.rows_read


def test_store_overview_sample_recognised_with_its_columns():
    report = parse_report(
        _samples_dir() / "store_overview_2026-09_utf8bom.csv", filename="overview.csv"
    )
    assert report.kind == ReportKind.STORE_OVERVIEW and report.ad_tool is None
    assert report.headers["date"] == "统计日期" and report.headers["gmv"] == "支付金额"
    assert report.headers["bounced_visitors"] == "跳失率"
    assert "bounced_visitors" in report.fields and report.unknown_columns == []
    first = read(report).iloc[0]
    assert first["source_row"] == 2 and str(first["date"].date()) == "2026-09-01"
    assert first["bounced_visitors"] == 1983  # 59.20% of 3,350 = 1,983.2


def test_zhitongche_sample_skips_its_totals_row():
    name = "zhitongche_2026-09_gbk.csv"
    report = parse_report(_samples_dir() / name, filename=name)
    frame = read(report)
    assert (report.kind, report.ad_tool) == (ReportKind.ZHITONGCHE, AdTool.ZHITONGCHE)
    assert report.rows_read == 60 and report.rows_skipped == 1
    assert set(frame["ad_tool"]) == {"zhitongche"} and set(frame["item_id"]) == {""}
    assert frame["source_row"].tolist() == list(range(2, 62))


def test_titled_xlsx_sample_row_numbers_count_the_title_lines():
    name = "store_overview_2026-09-01_14_titled.xlsx"
    frame = read(parse_report(_samples_dir() / name, filename=name))
    assert frame["source_row"].iloc[0] == 5  # two title lines, a blank line, the header


# --- the frames' shape ------------------------------------------------------------------------


def test_frames_have_exactly_the_contract_columns_and_types():
    data = csv_bytes(
        [WANXIANGTAI]
        + [
            f"2026-09-0{d},计划{c},6120000{c},裙子,100,10,12.30,50.00,1,4.0"
            for d in (1, 2)
            for c in (1, 2)
        ]
    )
    report = parse(data, "万相台_商品报表.csv", chunk_rows=3)
    frames = list(report.frames())
    assert [len(f) for f in frames] == [3, 1]
    frame = pd.concat(frames, ignore_index=True)
    assert list(frame.columns) == [
        "source_row", "date", "ad_tool", "campaign", "item_id", "item_name",
        "impressions", "clicks", "ad_orders", "ad_spend", "ad_gmv",
    ]  # fmt: skip
    assert frame["source_row"].dtype == "int64" and frame["date"].dtype == "datetime64[ns]"
    assert all(str(frame[n].dtype) == "Int64" for n in ("impressions", "clicks", "ad_orders"))
    assert frame["ad_spend"].tolist() == ["12.3"] * 4 and frame["ad_gmv"].tolist() == ["50"] * 4
    assert frame["date"].astype(str).tolist()[:2] == ["2026-09-01", "2026-09-01"]
    assert report.fields == [
        "campaign", "item_id", "item_name", "impressions", "clicks", "ad_orders", "ad_spend",
        "ad_gmv",
    ]  # fmt: skip
    assert report.rows_read == 4


def test_a_report_is_plain_data():
    report = parse(csv_bytes([STORE, "2026-09-01,1,2,3,1,1%,3,1,50%"]), "a.csv")
    assert dataclasses.asdict(report)["headers"]["visitors"] == "访客数"


def test_frames_read_again_start_the_counts_afresh():
    report = parse(csv_bytes([STORE, "2026-09-01,1,2,3,1,1%,3,1,50%", "合计,1,2,3,,,,,"]), "a.csv")
    assert len(read(report)) == 1 and len(read(report)) == 1
    assert (report.rows_read, report.rows_skipped) == (1, 1)


def test_a_path_and_a_file_object_read_alike(tmp_path):
    data = csv_bytes([STORE, "2026-09-01,1,2,3.5,1,1%,3,1,50%"])
    path = tmp_path / "store.csv"
    path.write_bytes(data)
    assert read(parse_report(path, filename="store.csv")).equals(read(parse(data, "store.csv")))
    assert read(parse_report(str(path), filename="store.csv"))["gmv"].tolist() == ["3.5"]


def test_a_django_file_without_a_mode_is_read_as_binary():
    """FieldFile.open("rb") has no `mode`; pandas would take it for text and decode it as UTF-8."""
    from django.core.files.base import File

    data = csv_bytes([ZHITONGCHE, "2026-09-01,核心词,1,1,1%,1,1,1,1,1", "合计,,1,1,,1,,,,"], "gbk")
    report = parse_report(File(io.BytesIO(data)), filename="直通车.csv")
    assert read(report)["campaign"].tolist() == ["核心词"] and report.rows_skipped == 1


# --- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_each_encoding(encoding):
    name = "㐀字裙" if encoding == "gb18030" else "连衣裙"  # 㐀 exists in GB18030, not in GBK
    data = csv_bytes([PRODUCTS, f"2026-09-01,612,{name},10,20,1,1,99.90,2"], encoding)
    if encoding == "utf-8-sig":
        assert data.startswith(b"\xef\xbb\xbf")
    report = parse(data, "products.csv")
    frame = read(report)
    assert report.kind == ReportKind.PRODUCTS and report.headers["date"] == "统计日期"
    assert frame["item_name"].tolist() == [name] and frame["gmv"].tolist() == ["99.9"]


def test_text_in_neither_encoding_is_refused():
    data = csv_bytes([STORE], "utf-8") + b"2026-09-01,\x80\xff\xfe\x81,1,1,1,1,1,1,1\r\n"
    with pytest.raises(ReportError, match=r"a\.csv is not readable text in GBK/GB18030"):
        read(parse(data, "a.csv"))


def test_tab_separated_csv():
    data = csv_bytes([STORE.replace(",", "\t"), "2026-09-01\t1,234\t2\t3\t1\t1%\t3\t1\t50%"])
    assert read(parse(data, "store.csv"))["visitors"].tolist() == [1234]


# --- spreadsheets -----------------------------------------------------------------------------


def test_xlsx_with_title_lines_blank_lines_and_typed_cells():
    data = xlsx_bytes(
        [
            ["生意参谋-店铺概况"],
            ["店铺：某某旗舰店", None, "统计时间：2026-09-01 ~ 2026-09-03"],
            [],
            [],
            ["统计日期", "访客数", "支付金额", "支付买家数", "跳失率", "支付转化率"],
            [datetime.datetime(2026, 9, 1), 1000, 19460.56, 10, 0.5925, 0.01],
            [46267, 1000.0, "¥1,234.50", 10, "12.35%", "1.00%"],  # a serial date: 2026-09-02
            ["2026/9/3", "2,000", 0.1 + 0.2, None, None, None],
            [],
            ["合计", 4000, 20695.36, 20, None, None],
        ]
    )
    report = parse(data, "店铺概况.xlsx")
    frame = read(report)
    assert report.kind == ReportKind.STORE_OVERVIEW
    assert frame["source_row"].tolist() == [6, 7, 8]
    assert frame["date"].astype(str).tolist() == ["2026-09-01", "2026-09-02", "2026-09-03"]
    assert frame["visitors"].tolist() == [1000, 1000, 2000]
    assert frame["gmv"].tolist() == ["19460.56", "1234.5", "0.3"]  # floats as Excel shows them
    assert frame["bounced_visitors"].tolist()[:2] == [593, 124]  # 592.5 and 123.5 round up
    assert frame["bounced_visitors"].isna().tolist() == [False, False, True]
    assert frame["paying_buyers"].isna().tolist() == [False, False, True]
    assert (report.rows_read, report.rows_skipped) == (3, 2)  # a blank row and the 合计 row


def test_xlsx_header_found_on_a_later_sheet():
    book = openpyxl.Workbook()
    book.active.append(["说明", "本文件由生意参谋导出"])
    sheet = book.create_sheet("数据")
    sheet.append(SOURCES.split(","))
    sheet.append(["2026-09-01", "手淘搜索", 100, 2, 30, 1, 5, 300])
    buffer = io.BytesIO()
    book.save(buffer)
    report = parse(buffer.getvalue(), "traffic.xlsx")
    assert report.kind == ReportKind.TRAFFIC_SOURCES
    assert read(report)["source"].tolist() == ["手淘搜索"]


def test_binary_xls_with_intro_lines():
    """tests/data/products_titled.xls: a BIFF8 file written with xlwt 1.3.0 (two title lines, a
    blank line, the header on row 4, date cells, item IDs as text and as numbers, a 合计 row)."""
    report = parse_report(DATA / "products_titled.xls", filename="商品效果.xls")
    frame = read(report)
    assert report.kind == ReportKind.PRODUCTS and report.unknown_columns == ["备注"]
    assert frame["source_row"].tolist() == [5, 6, 7, 8]
    assert frame["item_id"].tolist() == ["612345678901", "612345678902"] * 2
    assert frame["date"].astype(str).tolist() == ["2026-09-01"] * 2 + ["2026-09-02"] * 2
    assert frame["gmv"].tolist() == ["4321.5", "1234.56", "3900.25", "1400"]
    assert frame["visitors"].sum() == 3900 and frame["favorites"].sum() == 33
    assert (report.rows_read, report.rows_skipped, report.errors_total) == (4, 1, 0)


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_xls_that_is_really_an_html_table(encoding):
    page = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset={encoding}">
    </head><body><table>
    <tr><td colspan="4">直通车报表 2026-09</td></tr>
    <tr><th>日期</th><th>计划名称</th><th>展现量</th><th>点击量</th><th>花费（元）</th></tr>
    <tr><td>2026-09-01</td><td>核心词&amp;精准</td><td>1,000</td><td>10</td><td>￥12.50</td></tr>
    <tr><td>2026-09-01</td><td>拉新</td><td>500</td><td>5</td><td>6</td></tr>
    </table></body></html>"""
    report = parse(page.encode(encoding), "report.xls")
    frame = read(report)
    assert report.kind == ReportKind.ZHITONGCHE and report.headers["ad_spend"] == "花费（元）"
    assert frame["campaign"].tolist() == ["核心词&精准", "拉新"]
    assert frame["impressions"].tolist() == [1000, 500]
    assert frame["ad_spend"].tolist() == ["12.5", "6"]
    assert frame["source_row"].tolist() == [3, 4]


def test_zip_holding_one_csv():
    inner = csv_bytes([WANXIANGTAI, "2026-09-01,货品加速,612,裙,100,10,1.5,20,1,13.3"], "gbk")
    report = parse(zip_bytes({"万相台_商品报表_20260901.csv": inner}), "download.zip")
    assert report.kind == ReportKind.WANXIANGTAI and report.filename == "download.zip"
    assert read(report)["ad_spend"].tolist() == ["1.5"]


def test_zip_holding_one_xlsx():
    inner = xlsx_bytes([PRODUCTS.split(","), ["2026-09-01", "612", "裙", 1, 2, 1, 1, 9.9, 0]])
    frame = read(parse(zip_bytes({"data/products.xlsx": inner}), "products.zip"))
    assert frame["gmv"].tolist() == ["9.9"]


def test_xls_that_is_really_an_xlsx():
    data = xlsx_bytes([PRODUCTS.split(","), ["2026-09-01", "612", "裙", 1, 2, 1, 1, 9.9, 0]])
    assert read(parse(data, "商品.xls"))["item_id"].tolist() == ["612"]


def test_zip_whose_entry_fails_its_checksum():
    inner = csv_bytes([STORE, "2026-09-01,1,1,1,1,1%,1,1,1%"])
    data = bytearray(zip_bytes({"store.csv": inner}))
    central = data.index(b"PK\x01\x02")
    data[central + 16 : central + 20] = b"\0\0\0\0"  # the CRC-32 the reader checks
    with pytest.raises(ReportError, match=r"store\.zip is a damaged ZIP archive"):
        read(parse(bytes(data), "store.zip"))


# --- numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,234", Decimal("1234")),
        ("¥1,234.56", Decimal("1234.56")),
        ("￥1,234.56", Decimal("1234.56")),
        ("1234.56元", Decimal("1234.56")),
        ("3.45%", Decimal("0.0345")),
        (" 12 ", Decimal("12")),
        ("\u300012.5\u3000", Decimal("12.5")),
        ("１，２３４．５", Decimal("1234.5")),
        ("-0.5", Decimal("-0.5")),
        ("-¥5", Decimal("-5")),
        ("¥-5", Decimal("-5")),
        ("0.10", Decimal("0.10")),
        ("-", None),
        ("--", None),
        ("—", None),
        ("", None),
        ("  ", None),
    ],
)
def test_parse_decimal(text, value):
    assert parse_decimal(text) == value


@pytest.mark.parametrize("text", ["abc", "1,23", "12..3", "1e3", "%", "¥", "1 234", "12,3456"])
def test_parse_decimal_refuses(text):
    with pytest.raises(ValueError):
        parse_decimal(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1,234", 1234), ("1234.0", 1234), ("0", 0), ("-", None), (" 7 ", 7), ("-3", -3)],
)
def test_parse_count(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["12.5", "3%", "abc", "1,2"])
def test_parse_count_refuses(text):
    with pytest.raises(ValueError):
        parse_count(text)


def test_every_number_format_in_a_csv_column():
    amounts = ["1,234", "¥1,234.56", "1234.56元", "-", "--", "", " 12 ", "１２３", "0.00", "007.50"]
    counts = ["1,234", "１,２３４", "1234.0", "-", "--", "", " 12 ", "１２３", "0", "0007"]
    rows = [
        f'2026-09-{i + 1:02d},"{a}","{c}"'
        for i, (a, c) in enumerate(zip(amounts, counts, strict=True))
    ]
    report = parse(csv_bytes(["统计日期,支付金额,访客数", *rows]), "store.csv")
    frame = read(report)
    assert report.errors == []
    assert frame["gmv"].tolist()[:3] == ["1234", "1234.56", "1234.56"]
    assert frame["gmv"].tolist()[6:] == ["12", "123", "0", "7.5"]
    assert frame["gmv"].iloc[3:6].isna().all()
    assert frame["visitors"].iloc[3:6].isna().all()
    assert frame["visitors"].dropna().tolist() == [1234, 1234, 1234, 12, 123, 0, 7]


AMOUNTS = st.decimals(
    min_value=Decimal("-99999999.99"),
    max_value=Decimal("99999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
AMOUNT_FORMATS = [
    lambda v: f"{v}",
    lambda v: f"{v:,}",
    lambda v: f"¥{v:,}",
    lambda v: f"{v}元",
    lambda v: f"  {v:,}  ",
    lambda v: f"\u3000{v}\u3000",
]


@given(AMOUNTS, st.sampled_from(range(len(AMOUNT_FORMATS))))
def test_written_amounts_parse_back(value, form):
    assert parse_decimal(AMOUNT_FORMATS[form](value)) == value


@given(st.lists(AMOUNTS.filter(lambda v: v >= 0), min_size=1, max_size=20), st.data())
def test_amount_column_reads_as_the_scalar_parser(values, data):
    written = [AMOUNT_FORMATS[data.draw(st.sampled_from(range(6)))](v) for v in values]
    cells = pd.Series(written, dtype=object).to_numpy()
    amounts, missing, problems = convert_amounts(cells, strings(cells))
    assert not missing.any() and not problems.any()
    assert [Decimal(a) for a in amounts] == values
    assert all("," not in a and not a.endswith(".") for a in amounts)


COUNT_FORMATS = [lambda n: f"{n}", lambda n: f"{n:,}", lambda n: f" {n:,} ", lambda n: f"{n}.0"]


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(range(len(COUNT_FORMATS))))
def test_written_counts_parse_back(value, form):
    text = COUNT_FORMATS[form](value)
    assert parse_count(text) == value
    cells = pd.Series([text], dtype=object).to_numpy()
    counts, missing, problems = convert_counts(cells, strings(cells))
    assert counts.tolist() == [value] and not missing.any() and not problems.any()


def test_derived_reply_seconds_from_a_time_cell():
    data = xlsx_bytes(
        [
            ["统计日期", "访客数", "支付金额", "咨询人数", "平均响应时长"],
            ["2026-09-01", 9, 1, 5, datetime.time(0, 0, 12)],
        ]
    )
    assert read(parse(data, "store.xlsx"))["cs_first_reply_seconds_sum"].tolist() == [60]


@pytest.mark.parametrize("newline", ["\n", "\r", "\r\n"])
def test_csv_line_ends(newline):
    data = newline.join(["标题", "", STORE, "2026-09-01,1,1,1,1,1%,1,1,1%", ""]).encode()
    assert read(parse(data, "store.csv"))["source_row"].tolist() == [4]


def test_header_without_rows():
    report = parse(STORE.encode(), "store.csv")
    assert list(report.frames()) == [] and report.rows_read == 0


def test_derived_reply_seconds():
    data = csv_bytes(
        [
            "统计日期,访客数,支付金额,咨询人数,平均响应时长(秒)",
            "2026-09-01,10,1,8,12.5",
            "2026-09-02,10,1,3,10.5秒",
        ]
    )
    report = parse(data, "store.csv")
    frame = read(report)
    assert report.headers["cs_first_reply_seconds_sum"] == "平均响应时长(秒)"
    assert frame["cs_sessions"].tolist() == [8, 3]
    assert frame["cs_first_reply_seconds_sum"].tolist() == [100, 32]  # 31.5 rounds half up


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2026-09-01",
        "2026/9/1",
        "2026/09/01",
        "20260901",
        "2026年9月1日",
        "2026.9.1",
        " 2026-09-01 ",
        "2026-09-01 00:00:00",
        "46266",
        46266,
        46266.0,
        datetime.date(2026, 9, 1),
        datetime.datetime(2026, 9, 1, 13, 5),
    ],
)
def test_parse_date(value):
    assert parse_date(value) == datetime.date(2026, 9, 1)


@pytest.mark.parametrize(
    "value",
    [
        "2026-13-01",
        "2026-02-30",
        "abc",
        "",
        "12345",
        "2026",
        5,
        "0001-01-01",
        datetime.date(1, 1, 1),
    ],
)
def test_parse_date_refuses(value):
    with pytest.raises(ValueError):
        parse_date(value)


def test_every_date_format_in_a_csv_column():
    dates = ["2026-11-01", "2026/11/2", "20261103", "46330", "2026年11月5日"]
    rows = [f"{d},1,1" for d in dates]
    frame = read(parse(csv_bytes(["日期,访客数,支付金额", *rows]), "store.csv"))
    assert frame["date"].astype(str).tolist() == [f"2026-11-0{d}" for d in range(1, 6)]


# --- totals, blank lines, header spellings, unknown columns -----------------------------------


def test_totals_rows_anywhere_and_blank_lines_are_skipped():
    data = csv_bytes(
        [
            "店铺概况",
            "",
            STORE,
            "2026-09-01,10,20,30.5,1,10%,30.5,1,50%",
            "合计：,10,20,30.5,1,,,,",
            "",
            ",,,,,,,,",
            "2026-09-02,10,20,30.5,1,10%,30.5,1,50%",
            "总 计,20,40,61,2,,,,",
            "汇总,20,40,61,2,,,,",
            "数据来源：生意参谋,,,,,,,,",
        ]
    )
    report = parse(data, "store.csv")
    frame = read(report)
    assert frame["source_row"].tolist() == [4, 8]
    assert (report.rows_read, report.rows_skipped, report.errors_total) == (2, 6, 0)


def test_totals_label_in_the_first_cell_when_the_date_is_not_first():
    data = csv_bytes(["计划名称,日期,展现量,花费", "A,2026-09-01,10,1", "合计,,10,1"])
    report = parse(data, "直通车.csv")
    assert len(read(report)) == 1 and report.rows_skipped == 1


def test_daily_subtotal_rows_of_ad_reports_are_skipped():
    data = csv_bytes(
        [ZHITONGCHE, "2026-09-01,A,1,1,1%,1,1,1,1,1", "2026-09-01,汇总,1,1,1%,1,1,1,1,1"]
    )
    report = parse(data, "直通车.csv")
    assert read(report)["campaign"].tolist() == ["A"] and report.rows_skipped == 1


@pytest.mark.parametrize(
    ("spend", "kind"),
    [
        ("花费", ReportKind.ZHITONGCHE),
        ("花费(元)", ReportKind.ZHITONGCHE),
        ("花费（元）", ReportKind.ZHITONGCHE),
        ("消耗", ReportKind.WANXIANGTAI),
        ("消耗(元)", ReportKind.WANXIANGTAI),
    ],
)
def test_spend_header_spellings(spend, kind):
    item = ",商品ID" if kind == ReportKind.WANXIANGTAI else ""
    value = ",612" if item else ""
    data = csv_bytes(
        [f"日期,计划名字{item},展现量,点击量,{spend}", f"2026-09-01,A{value},10,1,2.5"]
    )
    report = parse(data, "ads.csv")
    assert report.kind == kind and report.headers["ad_spend"] == spend
    assert report.headers["campaign"] == "计划名字"
    assert read(report)["ad_spend"].tolist() == ["2.5"]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("支付子订单数", "paid_orders"),
        ("支付订单数", "paid_orders"),
        ("收藏人数", "favorites"),
        ("商品收藏买家数", "favorites"),
        ("访客数", "visitors"),
        ("商品访客数", "visitors"),
        ("访客数（UV）", "visitors"),
        ("成功退款金额(元)", "refund_amount"),
        ("支付金额 (元)", "gmv"),
    ],
)
def test_store_and_product_header_spellings(header, field):
    data = csv_bytes([f"统计日期,商品ID,支付件数,{header}", "2026/9/1,612,1,5"])
    report = parse(data, "products.csv")
    assert report.headers[field] == header
    assert read(report)[field].tolist() == (["5"] if field in MONEY else [5])


@pytest.mark.parametrize(
    ("date", "gmv", "orders"),
    [("日期", "成交金额", "成交笔数"), ("统计日期", "总成交金额", "总成交笔数")],
)
def test_ad_header_spellings(date, gmv, orders):
    data = csv_bytes(
        [f"{date},计划名称,展现量,花费,{gmv},{orders},实际投产比", "2026-09-01,A,1,2,6,1,3"]
    )
    report = parse(data, "直通车.csv")
    assert (report.headers["date"], report.headers["ad_gmv"]) == (date, gmv)
    assert read(report)[["ad_gmv", "ad_orders"]].iloc[0].tolist() == ["6", 1]


def test_unknown_columns_listed_known_ratios_not():
    data = csv_bytes(
        [
            "统计日期,访客数,支付金额,支付转化率,客单价,UV价值,跳失率,平均停留时长,店铺评分,备注",
            "2026-09-01,10,5,1%,5,0.5,50%,30,4.8,",
        ]
    )
    report = parse(data, "store.csv")
    assert report.unknown_columns == ["店铺评分", "备注"]
    assert report.fields == ["visitors", "bounced_visitors", "gmv"]


def test_a_known_metric_of_another_grain_is_neither_stored_nor_unknown():
    data = csv_bytes([SOURCES, "2026-09-01,手淘搜索,100,2,30,1,5,300"])
    report = parse(data, "traffic.csv")
    assert "page_views" not in report.fields and report.unknown_columns == []
    assert "page_views" not in read(report).columns


# --- recognising the kind ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "lines", "kind"),
    [
        ("a.csv", [STORE, "2026-09-01,1,1,1,1,1%,1,1,1%"], ReportKind.STORE_OVERVIEW),
        ("a.csv", [SOURCES, "2026-09-01,手淘搜索,1,1,1,1,1,1"], ReportKind.TRAFFIC_SOURCES),
        ("a.csv", [PRODUCTS, "2026-09-01,612,裙,1,1,1,1,1,1"], ReportKind.PRODUCTS),
        ("a.csv", [ZHITONGCHE, "2026-09-01,A,1,1,1%,1,1,1,1,1"], ReportKind.ZHITONGCHE),
        ("a.csv", [WANXIANGTAI, "2026-09-01,A,612,裙,1,1,1,1,1,1"], ReportKind.WANXIANGTAI),
        ("引力魔方_202609.csv", [YINLIMOFANG, "2026-09-01,A,1,1,1,1,1,1"], ReportKind.YINLIMOFANG),
        ("yinlimofang.csv", [YINLIMOFANG, "2026-09-01,A,1,1,1,1,1,1"], ReportKind.YINLIMOFANG),
        (
            "a.csv",
            ["万相台 计划报表", YINLIMOFANG, "2026-09-01,A,1,1,1,1,1,1"],
            ReportKind.WANXIANGTAI,
        ),
    ],
)
def test_kind_recognised(filename, lines, kind):
    report = parse(csv_bytes(lines), filename)
    assert report.kind == kind
    assert report.grain == {
        ReportKind.STORE_OVERVIEW: Grain.STORE_DAY,
        ReportKind.TRAFFIC_SOURCES: Grain.STORE_DAY_SOURCE,
        ReportKind.PRODUCTS: Grain.STORE_DAY_PRODUCT,
    }.get(kind, Grain.STORE_DAY_AD)
    assert report.ad_tool == ({"zhitongche", "wanxiangtai", "yinlimofang"} & {kind} or {None}).pop()
    assert len(read(report)) == 1


def test_ambiguous_ad_report_asks_for_the_kind():
    data = csv_bytes([YINLIMOFANG, "2026-09-01,A,1,1,1,1,1,1"])
    with pytest.raises(ReportError) as caught:
        parse(data, "report.csv")
    message = str(caught.value)
    assert "report.csv" in message and "万相台 report" in message and "引力魔方 report" in message
    assert "Choose the report kind explicitly" in message


def test_ad_report_without_a_spend_column_could_be_any_tool():
    with pytest.raises(ReportError, match="直通车 report or a 万相台 report or a 引力魔方 report"):
        parse(csv_bytes(["日期,计划名称,展现量,点击量", "2026-09-01,A,1,1"]), "ads.csv")
    report = parse(csv_bytes(["日期,计划名称,展现量,点击量", "2026-09-01,A,1,1"]), "直通车.csv")
    assert report.kind == ReportKind.ZHITONGCHE and report.fields == [
        "campaign",
        "impressions",
        "clicks",
    ]


def test_kind_override_wins():
    data = csv_bytes([YINLIMOFANG, "2026-09-01,A,1,1,1,1,1,1"])
    report = parse(data, "report.csv", kind=ReportKind.YINLIMOFANG)
    assert report.ad_tool == "yinlimofang" and read(report)["ad_tool"].tolist() == ["yinlimofang"]
    zhitongche = parse(csv_bytes([ZHITONGCHE, "2026-09-01,A,1,1,1%,1,1,1,1,1"]), "万相台.csv")
    assert zhitongche.kind == ReportKind.WANXIANGTAI  # the name in the file name wins
    overridden = parse(csv_bytes([ZHITONGCHE]), "万相台.csv", kind="zhitongche")
    assert overridden.kind == ReportKind.ZHITONGCHE


def test_unrecognised_report():
    with pytest.raises(
        ReportError, match=re.escape("a.csv is not a report this portal recognises")
    ):
        parse(csv_bytes(["日期,访客数,浏览量", "2026-09-01,1,2"]), "a.csv")


def test_no_header_row():
    with pytest.raises(
        ReportError, match=re.escape("a.csv has no header row that this portal knows")
    ):
        parse(csv_bytes(["hello,world", "1,2"]), "a.csv")


def test_unknown_kind_override():
    with pytest.raises(ReportError, match="weekly is not a report kind"):
        parse(csv_bytes([STORE]), "a.csv", kind="weekly")


@pytest.mark.parametrize(
    ("lines", "kind", "message"),
    [
        (["访客数,支付金额", "1,2"], None, "no 统计日期 / 日期 column, which a 生意参谋 store"),
        (["日期,展现量,花费", "2026-09-01,1,2"], "zhitongche", "no 计划名称 / 计划名字 column"),
        (["日期,访客数,支付金额"], "products", "no 商品ID / 宝贝ID column"),
        (["日期,计划名称,支付金额"], "zhitongche", "has none of the figures a 直通车 report"),
    ],
)
def test_missing_required_column(lines, kind, message):
    with pytest.raises(ReportError, match=message):
        parse(csv_bytes(lines), "a.csv", kind=kind)


# --- bad rows ---------------------------------------------------------------------------------

BAD_ROWS = [
    "直通车 推广报表",
    "日期,计划名称,展现量,点击量,花费,总成交金额,总成交笔数",
    "2026-09-01,A,100,10,12.50,100,1",
    "2026-09-01,B,abc,10,12.50,100,1",
    "2026-13-01,C,100,10,1,1,1",
    "2026-09-02,D,100,-5,1,1,1",
    "2026-09-02,E,100,5,-1.00,1,1",
    "2026-09-02,F,100,5.5,1,1,3%",
    "2026-09-01, A ,1,1,1,1,1",
    "2026-09-02,,1,1,1,1,1",
    "2026/9/2,G,1,1,1,1,1",
    "2026-09-02,G,1,1,1,1,1",
    "2026-09-03,H,1,1,1.005,1,1",
]


@pytest.mark.parametrize("chunk_rows", [200_000, 2])
def test_bad_rows_are_reported_where_the_user_finds_them(chunk_rows):
    report = parse(csv_bytes(BAD_ROWS), "直通车.csv", chunk_rows=chunk_rows)
    frame = read(report)
    assert report.errors == [
        RowError(4, "展现量", "abc", "not a number"),
        RowError(5, "日期", "2026-13-01", "not a date"),
        RowError(6, "点击量", "-5", "negative count"),
        RowError(7, "花费", "-1.00", "negative amount"),
        RowError(8, "点击量", "5.5", "not a whole number"),
        RowError(8, "总成交笔数", "3%", "a percentage where a number is expected"),
        RowError(9, "", "2026-09-01 / A", "duplicate of row 3 (same 日期, 计划名称)"),
        RowError(10, "计划名称", "", "missing value"),
        RowError(12, "", "2026-09-02 / G", "duplicate of row 11 (same 日期, 计划名称)"),
        RowError(13, "花费", "1.005", "an amount with more than two decimal places"),
    ]
    assert report.errors_total == 10
    assert frame["source_row"].tolist() == [3, 11]
    assert report.rows_read == 11 and report.rows_skipped == 0


def test_amount_cells_and_their_problems():
    written = ["12.30", "１２.３", "¥0.005", "１.００５", "1.2.3", "-0", "-3", "5%", "", "1e3"]
    cells = pd.Series(written, dtype=object).to_numpy()
    amounts, missing, problems = convert_amounts(cells, strings(cells))
    assert amounts[:2].tolist() == ["12.3", "12.3"] and amounts[5] == "0"
    assert missing.tolist() == [False] * 8 + [True, False]
    assert [Problem(p).name for p in problems] == [
        "NONE", "NONE", "TOO_PRECISE", "TOO_PRECISE", "NOT_NUMBER", "NONE",
        "NEGATIVE_AMOUNT", "PERCENT", "NONE", "NOT_NUMBER",
    ]  # fmt: skip


def test_bad_cells_of_spreadsheets_show_their_text():
    data = xlsx_bytes(
        [PRODUCTS.split(","), ["2026-09-01", "6.12346E+11", "裙", "多", 1, 1, 1, 1, 1]]
    )
    report = parse(data, "products.xlsx")
    assert read(report).empty
    assert [(e.row, e.column, e.value) for e in report.errors] == [
        (2, "商品ID", "6.12346E+11"),
        (2, "商品访客数", "多"),
    ]
    assert "scientific notation" in report.errors[0].message


def test_duplicate_products_across_chunks():
    rows = [f"2026-09-01,{i},裙,1,1,1,1,1,1" for i in range(5)] + ["2026-09-01,3,裙,1,1,1,1,1,1"]
    report = parse(csv_bytes([PRODUCTS, *rows]), "products.csv", chunk_rows=2)
    assert len(read(report)) == 5
    assert report.errors == [
        RowError(7, "", "2026-09-01 / 3", "duplicate of row 5 (same 统计日期, 商品ID)")
    ]


def test_bad_rate_is_a_row_error():
    report = parse(csv_bytes([STORE, "2026-09-01,10,20,30,1,1%,30,1,150"]), "store.csv")
    assert read(report).empty
    assert [(e.row, e.column, e.value) for e in report.errors] == [(2, "跳失率", "150")]


def test_errors_kept_up_to_the_cap_and_all_counted():
    rows = [f"2026-09-01,{i},裙,x,1,1,1,1,1" for i in range(MAX_ERRORS + 500)]
    report = parse(csv_bytes([PRODUCTS, *rows]), "products.csv", chunk_rows=400)
    assert read(report).empty
    assert len(report.errors) == MAX_ERRORS and report.errors_total == MAX_ERRORS + 500
    assert report.rows_read == MAX_ERRORS + 500
    assert report.errors[-1].row == MAX_ERRORS + 1


# --- files that are not what they say, and archive limits -------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (PNG, "report.xlsx", r"report.xlsx is not an Excel workbook \(.xlsx\): the file is a PNG"),
        (csv_bytes([STORE]), "report.xlsx", "report.xlsx is not an Excel workbook .* plain text"),
        (xlsx_bytes([["a"]]), "report.csv", "report.csv is not a CSV file: the file is a ZIP"),
        (PNG, "report.csv", "report.csv is not a CSV file: the file is a PNG image"),
        (PNG, "report.xls", r"report.xls is not an Excel workbook \(.xls\): the file is a PNG"),
        (csv_bytes([STORE]), "report.zip", "report.zip is not a ZIP archive"),
        (b"%PDF-1.7", "report.pdf", "report.pdf is not a supported file type"),
        (zip_bytes({"a.txt": b"x"}), "report.xlsx", "the ZIP archive holds no workbook"),
        (
            zip_bytes({"xl/workbook.xml": b"<not xml", "[Content_Types].xml": b"<x/>"}),
            "report.xlsx",
            "report.xlsx cannot be read as an Excel workbook",
        ),
        (b"PK\x03\x04 broken", "report.zip", "report.zip is a damaged ZIP archive"),
        (zip_bytes({}), "report.zip", "report.zip is an empty ZIP archive"),
        (zip_bytes({"a.csv": b"x", "b.csv": b"y"}), "r.zip", "r.zip holds 2 files; at most 1"),
        (zip_bytes({"notes.txt": b"x"}), "r.zip", "r.zip holds notes.txt, which is not a CSV"),
        (zip_bytes({"inner.zip": b"x"}), "r.zip", "r.zip holds inner.zip, which is not a CSV"),
    ],
)
def test_file_that_is_not_what_its_name_says(data, filename, message):
    with pytest.raises(ReportError, match=message):
        read(parse(data, filename))


def test_zip_bomb_refused_before_decompressing():
    bomb = zip_bytes({"data.csv": b"0" * (20 * 2**20)})  # 20 MB that packs to ~20 KB
    assert len(bomb) < 100_000
    with pytest.raises(ReportError, match=r"bomb.zip: data.csv is compressed \d+ to 1, more than"):
        parse(bomb, "bomb.zip")


def test_xlsx_bomb_refused_before_decompressing():
    bomb = zip_bytes({"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b" " * 2**23})
    with pytest.raises(ReportError, match="more than the 100 to 1 accepted"):
        parse(bomb, "bomb.xlsx")


def test_xlsx_with_too_many_entries():
    entries = {f"xl/media/image{i}.png": b"x" for i in range(100)}
    data = zip_bytes({"xl/workbook.xml": b"<workbook/>", **entries})
    with pytest.raises(
        ReportError, match=re.escape("many.xlsx holds 101 files; at most 100 are accepted")
    ):
        parse(data, "many.xlsx")


def test_total_uncompressed_size_limit():
    data = zip_bytes({"a.csv": csv_bytes([STORE, "2026-09-01,1,1,1,1,1%,1,1,1%"])})
    limits = ArchiveLimits(max_uncompressed_bytes=100)
    with pytest.raises(
        ReportError, match=re.escape("a.zip would expand to 0 MB, more than the 0 MB")
    ):
        parse(data, "a.zip", limits=limits)
    assert len(read(parse(data, "a.zip"))) == 1


def test_openpyxl_parses_workbook_xml_with_defusedxml():
    import openpyxl.xml.functions

    assert openpyxl.DEFUSEDXML is True
    assert openpyxl.xml.functions.iterparse.__module__.startswith("defusedxml")
    assert openpyxl.xml.functions.fromstring.__module__.startswith("defusedxml")


# --- fast paths: each must agree with the general path, on the cells it reads and those it declines


PLAIN_AMOUNTS = ["0", "7", "12", "0.5", "0.50", "0.05", "10.00", "10.10", "1234.5", "99999999.99"]
DECLINED_AMOUNTS = [
    "",
    "-",
    " 12",
    "12 ",
    "+1",
    "-1",
    "1,234",
    "¥12",
    "12元",
    "1.234",
    "12.",
    ".5",
    "007.50",
    "00",
    "1e3",
    "1.2.3",
    "12%",
    "１２",
    "12\x00",
    "1\x002",
]


def _same_amounts(cells: list[str]) -> tuple:
    column = pd.Series(cells, dtype=object).to_numpy()
    fast = amounts_of(column.copy())
    general = convert_amounts(column, strings(column))
    for got, expected in zip(fast, general, strict=True):
        assert [None if v is pd.NA else v for v in got] == [
            None if v is pd.NA else v for v in expected
        ]
    return fast


def test_plain_amounts_read_plain_cells_and_decline_the_others():
    ascii_cells = [c for c in PLAIN_AMOUNTS + DECLINED_AMOUNTS if c.isascii() and "\x00" not in c]
    values, plain = plain_amounts(pd.Series(ascii_cells, dtype=object).to_numpy())
    assert plain.tolist() == [c in PLAIN_AMOUNTS for c in ascii_cells]
    assert values[: len(PLAIN_AMOUNTS)].tolist() == [
        "0", "7", "12", "0.5", "0.5", "0.05", "10", "10.1", "1234.5", "99999999.99"
    ]  # fmt: skip
    assert plain_amounts(pd.Series(["12", "１２"], dtype=object).to_numpy()) is None
    assert plain_amounts(pd.Series(["12\x00"], dtype=object).to_numpy()) is None


@pytest.mark.parametrize("cell", DECLINED_AMOUNTS)
def test_amounts_the_fast_path_declines_read_as_the_general_path(cell):
    _same_amounts(["12.30", cell, "0.00", cell])


@given(
    st.lists(
        st.one_of(
            st.sampled_from(PLAIN_AMOUNTS + DECLINED_AMOUNTS),
            st.text(alphabet="0123456789.,-+ ¥元%e", max_size=8),
            AMOUNTS.map(str),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_amount_fast_path_agrees_with_the_general_path(cells):
    _same_amounts(cells)


PRODUCT_HEADER = (
    "统计日期,商品ID,商品名称,商品访客数,商品浏览量,"
    "支付买家数,支付件数,支付金额,加购人数,商品收藏买家数"
)
ODD_COUNTS = [
    "007",
    " 5",
    "5\t",
    "+5",
    "-5",
    "-0",
    "1e3",
    "1E3",
    "2.0",
    "2.5",
    "1,234",
    "",
    "-",
    "１２",
    "99999999999999999999",
    "9223372036854775807",
    "x\x1f1",
]


def _read_without_the_count_fast_path(monkeypatch, data: bytes, chunk_rows: int):
    from execution.metrics.parsing import tables

    chunks = tables.CsvTable.chunks
    with monkeypatch.context() as patch:
        patch.setattr(
            tables.CsvTable,
            "chunks",
            lambda self, sheet, header_row, ncols, rows, numeric=(): chunks(
                self, sheet, header_row, ncols, rows
            ),
        )
        return _outcome(data, chunk_rows)


def _outcome(data: bytes, chunk_rows: int):
    report = parse(data, "products.csv", chunk_rows=chunk_rows)
    frame = read(report)
    return frame, report.errors, report.errors_total, report.rows_read, report.rows_skipped


@pytest.mark.parametrize("odd", ODD_COUNTS)
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_counts_read_as_integers_agree_with_the_text_path(monkeypatch, odd, newline):
    rows = [
        f"2026-09-{d:02d},{600 + i},商品 {i},{d * i},3,0,1,9.90,2,1" for d in (1, 2) for i in (1, 2)
    ]
    rows[1] = rows[1].replace(",3,", f",{odd},", 1)  # one odd cell in the first chunk
    rows += ["合计,,,10,10,10,10,10,10,10", "", "2026-09-03,600, e1 ,1,1,1,1,1,1,1"]
    data = (newline.join([PRODUCT_HEADER, *rows]) + newline).encode()
    for chunk_rows in (2, 3, 200_000):
        fast = _outcome(data, chunk_rows)
        general = _read_without_the_count_fast_path(monkeypatch, data, chunk_rows)
        pd.testing.assert_frame_equal(fast[0], general[0])
        assert fast[1:] == general[1:]


def test_plain_csv_counts_are_read_as_integers_and_odd_blocks_as_text():
    from execution.metrics.parsing.report import _ChunkConverter

    plain = [f"2026-09-01,{600 + i},商品,{i},3,0,1,9.90,2,1" for i in range(4)]
    odd = ["2026-09-02,700,商品,1e3,3,0,1,9.90,2,1", "2026-09-02,701,商品,1,3,0,1,9.90,2,1"]
    quoted = ['2026-09-03,702,"商品, 大",1,3,0,1,9.90,2,1']
    report = parse(csv_bytes([PRODUCT_HEADER, *plain, *odd, *quoted]), "products.csv")
    plan = report._plan
    numeric = _ChunkConverter(report, plan).numeric
    assert numeric == [3, 4, 5, 6, 8, 9]
    chunks = list(plan.table.chunks(plan.sheet, plan.header_row, plan.ncols, 2, numeric))
    assert [rows.tolist() for _cells, rows in chunks] == [[2, 3], [4, 5], [6, 7], [8]]
    assert [cells[3].dtype == "int64" for cells, _rows in chunks] == [True, True, False, False]
    frame = read(report)
    assert frame["visitors"].tolist() == [0, 1, 2, 3, 1, 1]
    assert [(e.row, e.column, e.value) for e in report.errors] == [(6, "商品访客数", "1e3")]


def test_key_checks_on_distinct_texts_hold_for_every_row():
    rows = [
        "2026-09-01, 600 ,商品,1,1,1,1,1,1,1",
        "2026-09-01,'600,商品,1,1,1,1,1,1,1",  # the same product: a duplicate
        "2026-09-01,6E+11,商品,1,1,1,1,1,1,1",
        "2026-09-01,6E+11,商品,1,1,1,1,1,1,1",
        "2026-09-01,   ,商品,1,1,1,1,1,1,1",
        " 合计 ,,,1,1,1,1,1,1,1",
        "2026-09-02,600, 商品 ,1,1,1,1,1,1,1",
    ]
    report = parse(csv_bytes([PRODUCT_HEADER, *rows]), "products.csv", chunk_rows=3)
    frame = read(report)
    assert frame["item_id"].tolist() == ["600", "600"]
    assert frame["item_name"].tolist() == ["商品", "商品"]
    assert frame["source_row"].tolist() == [2, 8]
    assert [(e.row, e.column, e.value) for e in report.errors] == [
        (3, "", "2026-09-01 / '600"),
        (4, "商品ID", "6E+11"),
        (5, "商品ID", "6E+11"),
        (6, "商品ID", "   "),
    ]
    assert report.errors[0].message == "duplicate of row 2 (same 统计日期, 商品ID)"
    assert (report.rows_read, report.rows_skipped) == (6, 1)


@pytest.mark.parametrize("late", ['2026-09-09,9,"bad,1,1,1,1,1,1,1', "", "2026-09-09,9\r8,1,1"])
def test_a_late_block_the_fast_path_cannot_take_reads_as_the_text_path(monkeypatch, late):
    rows = [f"2026-09-01,{600 + i},商品,{i},3,0,1,9.90,2,1" for i in range(5)]
    data = ("\n".join([PRODUCT_HEADER, *rows, late, *rows[:2]]) + "\n").encode()
    for chunk_rows in (1, 2, 4):
        try:
            fast = _outcome(data, chunk_rows)
        except ReportError as error:
            fast = str(error)
        try:
            general = _read_without_the_count_fast_path(monkeypatch, data, chunk_rows)
        except ReportError as error:
            general = str(error)
        if isinstance(fast, str) or isinstance(general, str):
            assert fast == general
        else:
            pd.testing.assert_frame_equal(fast[0], general[0])
            assert fast[1:] == general[1:]
