"""The one formula guard every spreadsheet the portal writes goes through."""

import pytest

from agency.spreadsheets import spreadsheet_text


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\0x"],
)
def test_text_a_spreadsheet_would_run_gets_a_quote_in_front(text):
    assert spreadsheet_text(text) == "'" + text


@pytest.mark.parametrize("text", ["面霜", "a=b", "1+1", " =1", "'=1", ""])
def test_other_text_is_left_alone(text):
    assert spreadsheet_text(text) == text


def test_values_become_text_and_none_an_empty_cell():
    assert spreadsheet_text(None) == ""
    assert spreadsheet_text(12) == "12"
    # A number passed as text is text: the guard is for text cells (write numbers as numbers).
    assert spreadsheet_text(-5) == "'-5"
