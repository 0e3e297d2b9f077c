"""Input modelling: MLE candidates, ranking, fallback, and the mapping of scipy parameters onto the
layout's distribution vocabulary, checked against scipy's own moments and the simulator's sampler."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from scipy import stats

import vfactory.calibrate.fit  # noqa: F401  (the module, not the function of the same name)
from vfactory.layout import Distribution
from vfactory.sim.random import block_drawer

fitting = sys.modules["vfactory.calibrate.fit"]

CASES = [
    ("exponential", stats.expon(scale=3.0)),
    ("gamma", stats.gamma(2.5, scale=1.2)),
    ("lognormal", stats.lognorm(0.6, scale=2.0)),
    ("weibull", stats.weibull_min(1.8, scale=4.0)),
    ("normal", stats.norm(10.0, 1.5)),
    ("uniform", stats.uniform(2.0, 3.0)),
    ("triangular", stats.triang(0.3, loc=1.0, scale=4.0)),
]


@pytest.mark.parametrize("family,dist", CASES)
def test_layout_form_has_the_fitted_moments_and_samples_them(family, dist):
    """The layout distribution made from fitted parameters has scipy's mean and cv, and the
    simulator's sampler draws with that mean and cv (so the parameter mapping is right)."""
    x = dist.rvs(size=3000, random_state=np.random.default_rng(7))
    p = fitting.mle(family, x)
    frozen = fitting._frozen(family, p)
    d = Distribution.model_validate(fitting.to_layout(family, p))
    m, v = frozen.stats("mv")
    assert math.isclose(d.mean_value, float(m), rel_tol=1e-6)
    draws = block_drawer(d, 1.0)(np.random.default_rng(3), 200_000)
    assert math.isclose(draws.mean(), float(m), rel_tol=0.01)
    assert math.isclose(draws.std() / draws.mean(), math.sqrt(float(v)) / float(m), rel_tol=0.02)


@pytest.mark.parametrize("family,dist", CASES[:4])
def test_mle_matches_scipy_generic_fit(family, dist):
    x = dist.rvs(size=800, random_state=np.random.default_rng(11))
    ours = fitting._frozen(family, fitting.mle(family, x))
    if family == "exponential":
        ref = stats.expon(*stats.expon.fit(x, floc=0))
    elif family == "gamma":
        ref = stats.gamma(*stats.gamma.fit(x, floc=0))
    elif family == "lognormal":
        ref = stats.lognorm(*stats.lognorm.fit(x, floc=0))
    else:
        ref = stats.weibull_min(*stats.weibull_min.fit(x, floc=0))
    # same likelihood (to the optimiser's precision)
    assert ours.logpdf(x).sum() >= ref.logpdf(x).sum() - 1e-3


def test_ranking_prefers_the_true_family_with_enough_data():
    x = stats.gamma(4.0, scale=0.5).rvs(size=3000, random_state=np.random.default_rng(5))
    f = fitting.fit(x)
    assert f.chosen == "gamma"
    assert [c.aic for c in f.candidates] == sorted(c.aic for c in f.candidates)
    assert f.candidates[0].ks_p > 0.05
    lo, hi = f.mean_ci
    assert lo < 2.0 < hi
    lo, hi = f.cv_ci
    assert lo < 0.5 < hi


def test_few_values_fall_back_to_empirical_and_equal_values_to_constant():
    f = fitting.fit([2.0, 3.5, 2.5, 4.0, 3.0])
    assert f.chosen == "empirical" and f.layout["values"] == [2.0, 3.5, 2.5, 4.0, 3.0]
    assert len(f.candidates) > 0  # still fitted, for the report
    Distribution.model_validate(f.layout)
    f = fitting.fit([1.5] * 30)
    assert f.chosen == "constant" and f.layout == {"dist": "constant", "value": 1.5}


def test_zeros_exclude_the_positive_families():
    x = np.concatenate([[0.0, 0.0], stats.uniform(0, 2).rvs(60, random_state=1)])
    f = fitting.fit(x)
    assert {c.family for c in f.candidates} <= {"normal", "uniform", "triangular"}
    Distribution.model_validate(f.layout)
