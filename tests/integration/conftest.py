"""Integration tests: real processes (collector, viewers in pseudo-terminals) on a real
PostgreSQL. Part of `make test`; `pytest -m integration` runs only them,
`pytest -m "not integration"` leaves them out."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "integration: real processes on a real PostgreSQL (tests/integration)"
    )
