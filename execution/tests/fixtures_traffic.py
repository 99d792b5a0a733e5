"""Fixtures of the traffic area of the execution workspace."""

import pytest


@pytest.fixture
def traffic_url_arguments() -> dict:
    return {}
