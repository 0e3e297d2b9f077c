"""Shared helpers of the solver tests: the refinement check behind every tolerance."""

from __future__ import annotations

import pytest


def check_refinement(
    values: list[float], reference: float, tol: float, ref_resolution: float = 0.0
) -> list[float]:
    """Assert the error against ``reference`` shrinks with each refinement and ends within tol.

    ``values`` run from coarsest to finest. ``ref_resolution`` is the rounding of the published
    reference (e.g. 0.005 for 36.60): once the error is below it, it cannot shrink measurably.
    Returns the relative errors (for the failure message of the caller).
    """
    errors = [abs(v - reference) / abs(reference) for v in values]
    floor = ref_resolution / abs(reference)
    for coarse, fine in zip(errors, errors[1:], strict=False):
        assert fine <= coarse or fine <= floor, (
            f"error grew under refinement: {errors} for values {values}, reference {reference}"
        )
    assert errors[-1] <= tol, f"finest value {values[-1]} not within {tol:%} of {reference}"
    assert errors[0] > errors[-1] or errors[0] <= floor, "refinement did not reduce the error"
    return errors


@pytest.fixture
def refinement():
    return check_refinement
