"""Fixtures of the setup area of the execution workspace."""

import pytest


@pytest.fixture
def setup_url_arguments() -> dict:
    return {}
