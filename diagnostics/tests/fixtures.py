"""Fixtures of the diagnostics app that other apps' tests use too (loaded by the root conftest)."""

import pytest


@pytest.fixture
def diagnostics_url_arguments():
    """Which Brand A object fills each URL argument of this app's pages (the isolation check)."""
    return {}
