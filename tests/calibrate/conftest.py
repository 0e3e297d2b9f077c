"""Shared set-up of the calibration tests: where the real DASCEN-LF logs are, the example mapping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REAL_LINES_DIR = Path(
    os.environ.get("VFACTORY_REAL_LINES_DIR", ROOT.parent / "shared" / "real_lines")
)
DASCEN_MAPPING = ROOT / "examples" / "real_lines" / "dascen_mapping.yaml"
SCENARIOS = ("01", "03", "06")


def _scenario_log(scenario: str) -> Path:
    path = REAL_LINES_DIR / f"dascen_lf_scenario_{scenario}_data_raw.csv"
    if not path.exists():
        pytest.fail(
            f"real line log {path} not found: set VFACTORY_REAL_LINES_DIR to the folder holding "
            "the DASCEN-LF CSV files (see shared/real_lines/README.md)"
        )
    return path


@pytest.fixture(scope="session")
def scenario_log():
    """``scenario_log("01")`` -> path of that raw DASCEN-LF log (fails clearly if missing)."""
    return _scenario_log


@pytest.fixture(scope="session")
def dascen_mapping() -> Path:
    return DASCEN_MAPPING
