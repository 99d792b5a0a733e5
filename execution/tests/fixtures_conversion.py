"""Fixtures of the conversion area of the execution workspace."""

import pytest


@pytest.fixture
def conversion_url_arguments() -> dict:
    return {}
