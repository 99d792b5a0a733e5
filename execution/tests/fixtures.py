"""Fixtures of the execution workspace that other tests use too (loaded by the root conftest).
Each area keeps its own module (fixtures_setup, fixtures_traffic, fixtures_conversion)."""

import pytest


@pytest.fixture
def execution_url_arguments(
    setup_url_arguments, traffic_url_arguments, conversion_url_arguments
) -> dict:
    """Brand A objects for the workspace's URL arguments (tests/test_isolation.py)."""
    return {**setup_url_arguments, **traffic_url_arguments, **conversion_url_arguments}
