"""Input modelling: fit candidate distributions to measured durations, rank them, map to the layout.

Candidates are fitted by maximum likelihood with ``scipy.stats`` (location fixed at 0 for the
positive families, since durations start at zero). Each fit gets the Kolmogorov–Smirnov statistic
and p-value (optimistic, as the parameters come from the same data) and AIC/BIC. The chosen fit is
the lowest-AIC candidate that the KS test does not reject at 5 %; with fewer than ``min_samples``
values the empirical distribution is used instead. A nonparametric bootstrap (refitting the chosen
family to resampled data) gives 95 % intervals for the fitted mean and coefficient of variation.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

MIN_SAMPLES = 20
CANDIDATES = ("exponential", "gamma", "lognormal", "weibull", "normal", "uniform", "triangular")


@dataclass
class Candidate:
    family: str
    params: dict[str, float]  # scipy parameters
    loglik: float
    k: int
    ks_stat: float
    ks_p: float
    aic: float
    bic: float
    mean: float
    cv: float

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass
class Fit:
    """The input model of one sample: chosen distribution (layout form) and every candidate."""

    n: int
    sample_mean: float
    sample_cv: float
    chosen: str  # family name, 'empirical' or 'constant'
    layout: dict  # the distribution in layout vocabulary
    candidates: list[Candidate] = field(default_factory=list)
    mean_ci: tuple[float, float] | None = None
    cv_ci: tuple[float, float] | None = None
    reason: str = ""
    values: list[float] = field(default_factory=list, repr=False)  # the sample (for plots)

    def to_dict(self) -> dict:
        return {
            "n": self.n,
            "sample_mean": self.sample_mean,
            "sample_cv": self.sample_cv,
            "chosen": self.chosen,
            "layout": self.layout,
            "mean_ci95": self.mean_ci,
            "cv_ci95": self.cv_ci,
            "reason": self.reason,
            "candidates": [c.to_dict() for c in self.candidates],
        }


def _frozen(family: str, p: dict[str, float]):
    if family == "exponential":
        return stats.expon(scale=p["scale"])
    if family == "gamma":
        return stats.gamma(p["a"], scale=p["scale"])
    if family == "lognormal":
        return stats.lognorm(p["s"], scale=p["scale"])
    if family == "weibull":
        return stats.weibull_min(p["c"], scale=p["scale"])
    if family == "normal":
        return stats.norm(p["loc"], p["scale"])
    if family == "uniform":
        return stats.uniform(p["loc"], p["scale"])
    if family == "triangular":
        return stats.triang(p["c"], loc=p["loc"], scale=p["scale"])
    raise KeyError(family)


def mle(family: str, x: np.ndarray) -> dict[str, float]:
    """Maximum-likelihood parameters (scipy names) of ``family`` for the data ``x``."""
    if family == "exponential":
        return {"scale": float(x.mean())}
    if family == "gamma":
        a, _, scale = stats.gamma.fit(x, floc=0)
        return {"a": float(a), "scale": float(scale)}
    if family == "lognormal":
        lx = np.log(x)
        return {"s": float(lx.std()), "scale": float(math.exp(lx.mean()))}
    if family == "weibull":
        c = float(_weibull_shape(x[None, :])[0])
        return {"c": c, "scale": float(np.mean(x**c) ** (1 / c))}
    if family == "normal":
        return {"loc": float(x.mean()), "scale": float(x.std())}
    if family == "uniform":
        return {"loc": float(x.min()), "scale": float(x.max() - x.min())}
    if family == "triangular":
        return _triangular_mle(x)
    raise KeyError(family)


def _triangular_mle(x: np.ndarray) -> dict[str, float]:
    """Triangular fit: ends just beyond the data (a zero density at an observed point would make
    the likelihood vanish), mode by maximum likelihood over candidate points (Oliver 1972: the
    MLE of the mode is a data point)."""
    n = len(x)
    r = float(np.ptp(x))
    lo, hi = float(x.min()) - r / n, float(x.max()) + r / n
    modes = np.unique(np.quantile(x, np.linspace(0, 1, min(n, 201))))
    xs = x[None, :]
    m = modes[:, None]
    with np.errstate(divide="ignore"):
        dens = np.where(
            xs <= m,
            2 * (xs - lo) / ((hi - lo) * (m - lo + 1e-300)),
            2 * (hi - xs) / ((hi - lo) * (hi - m + 1e-300)),
        )
        ll = np.log(np.maximum(dens, 1e-300)).sum(axis=1)
    mode = float(modes[int(np.argmax(ll))])
    return {"c": (mode - lo) / (hi - lo), "loc": lo, "scale": hi - lo}


def _mean_cv(family: str, p: dict[str, float]) -> tuple[float, float]:
    m, v = _frozen(family, p).stats("mv")
    m, v = float(m), float(v)
    return m, (math.sqrt(v) / m if m > 0 else float("nan"))


def to_layout(family: str, p: dict[str, float]) -> dict:
    """The fitted distribution in the layout's vocabulary (mean+cv where the layout has it)."""
    if family == "exponential":
        return {"dist": "exponential", "mean": p["scale"]}
    if family in ("gamma", "lognormal", "normal"):
        m, cv = _mean_cv(family, p)
        return {"dist": family, "mean": m, "cv": cv}
    if family == "weibull":
        return {"dist": "weibull", "shape": p["c"], "scale": p["scale"]}
    if family == "uniform":
        return {"dist": "uniform", "low": p["loc"], "high": p["loc"] + p["scale"]}
    if family == "triangular":
        lo, sc = p["loc"], p["scale"]
        return {"dist": "triangular", "low": lo, "mode": lo + p["c"] * sc, "high": lo + sc}
    raise KeyError(family)


def _usable(family: str, x: np.ndarray, p: dict[str, float]) -> bool:
    if family in ("gamma", "lognormal", "weibull", "exponential") and x.min() <= 0:
        return False
    if family == "normal":  # the layout refuses normal with cv > 0.5 (negative draws)
        return p["loc"] > 0 and p["scale"] / p["loc"] <= 0.5
    if family in ("uniform", "triangular"):
        return p["loc"] >= 0 and p["scale"] > 0
    return True


def fit_candidates(x: np.ndarray, families=CANDIDATES) -> list[Candidate]:
    out = []
    n = len(x)
    for fam in families:
        if fam in ("gamma", "lognormal", "weibull", "exponential") and x.min() <= 0:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p = mle(fam, x)
                if not _usable(fam, x, p):
                    continue
                dist = _frozen(fam, p)
                ll = float(np.sum(dist.logpdf(x)))
                ks = stats.kstest(x, dist.cdf)
        except (ValueError, RuntimeError, FloatingPointError):
            continue
        if not math.isfinite(ll):
            continue
        k = len(p)
        m, cv = _mean_cv(fam, p)
        out.append(
            Candidate(
                fam,
                p,
                ll,
                k,
                float(ks.statistic),
                float(ks.pvalue),
                2 * k - 2 * ll,
                k * math.log(n) - 2 * ll,
                m,
                cv,
            )
        )
    out.sort(key=lambda c: c.aic)
    return out


def bootstrap_mean_cv(
    x: np.ndarray, family: str, draws: int = 200, seed: int = 0, level: float = 0.95
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Percentile bootstrap intervals of the fitted distribution's mean and cv."""
    rng = np.random.default_rng(seed)
    n = len(x)
    idx = rng.integers(0, n, (draws, n))
    xs = x[idx]
    if family == "exponential":
        means, cvs = xs.mean(axis=1), np.ones(draws)
    elif family == "normal":
        means = xs.mean(axis=1)
        cvs = xs.std(axis=1) / means
    elif family == "lognormal":
        lx = np.log(xs)
        mu, s2 = lx.mean(axis=1), lx.var(axis=1)
        means = np.exp(mu + s2 / 2)
        cvs = np.sqrt(np.expm1(s2))
    elif family == "weibull":
        c = _weibull_shape(xs)
        scale = np.mean(xs ** c[:, None], axis=1) ** (1 / c)
        means = scale * special.gamma(1 + 1 / c)
        cvs = np.sqrt(special.gamma(1 + 2 / c) / special.gamma(1 + 1 / c) ** 2 - 1)
    elif family == "gamma":
        means = xs.mean(axis=1)  # the gamma MLE keeps the sample mean
        shape = _gamma_shape(np.log(means) - np.log(xs).mean(axis=1))
        cvs = 1 / np.sqrt(shape)
    else:
        means, cvs = np.empty(draws), np.empty(draws)
        for i in range(draws):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                means[i], cvs[i] = _mean_cv(family, mle(family, xs[i]))
    a = (1 - level) / 2
    q = [100 * a, 100 * (1 - a)]
    lo_m, hi_m = np.percentile(means, q)
    lo_c, hi_c = np.percentile(cvs, q)
    return (float(lo_m), float(hi_m)), (float(lo_c), float(hi_c))


def _weibull_shape(xs: np.ndarray) -> np.ndarray:
    """Weibull MLE shape of each row of ``xs`` (location 0): Newton's method on the profile
    equation 1/k + mean(log x) − Σ x^k log x / Σ x^k = 0, started from the log-moment estimate."""
    lx = np.log(xs / xs.mean(axis=1, keepdims=True))  # scale-free: better conditioned
    mlx = lx.mean(axis=1)
    k = 1.2825 / np.maximum(lx.std(axis=1), 1e-12)  # π/√6 / sd(log x)
    for _ in range(50):
        w = np.exp(k[:, None] * lx)
        s0, s1, s2 = w.sum(axis=1), (w * lx).sum(axis=1), (w * lx * lx).sum(axis=1)
        g = 1 / k + mlx - s1 / s0
        dg = -1 / k**2 - (s2 / s0 - (s1 / s0) ** 2)
        step = g / dg
        k = np.maximum(k - step, k / 2)
        if np.all(np.abs(step) < 1e-10 * k):
            break
    return k


def _gamma_shape(s: np.ndarray) -> np.ndarray:
    """Gamma MLE shape from s = log(mean) − mean(log x): Minka's start, then Newton steps."""
    s = np.maximum(s, 1e-12)
    a = (3 - s + np.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
    for _ in range(6):
        f = np.log(a) - special.digamma(a) - s
        df = 1 / a - special.polygamma(1, a)
        a = np.maximum(a - f / df, 1e-8)
    return a


def fit(
    values,
    min_samples: int = MIN_SAMPLES,
    bootstrap: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> Fit:
    """Fit, rank and choose an input model for the measured durations ``values``."""
    f = _fit(values, min_samples, bootstrap, seed, level)
    f.values = [float(v) for v in np.asarray(values, dtype=float)]
    return f


def _fit(
    values,
    min_samples: int = MIN_SAMPLES,
    bootstrap: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> Fit:
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        raise ValueError("no values to fit")
    mean = float(x.mean())
    cv = float(x.std(ddof=1) / mean) if n > 1 and mean > 0 else 0.0
    if np.ptp(x) == 0:
        return Fit(
            n, mean, 0.0, "constant", {"dist": "constant", "value": mean}, reason="all values equal"
        )
    if n < min_samples:
        return Fit(
            n,
            mean,
            cv,
            "empirical",
            {"dist": "empirical", "values": [float(v) for v in x]},
            candidates=fit_candidates(x) if n >= 3 else [],
            reason=f"{n} values < {min_samples}: empirical distribution",
        )
    cands = fit_candidates(x)
    ok = [c for c in cands if c.ks_p >= 0.05]
    if not ok:
        return Fit(
            n,
            mean,
            cv,
            "empirical",
            {"dist": "empirical", "values": [float(v) for v in x]},
            cands,
            reason="every candidate rejected by the KS test at 5 %: empirical",
        )
    best = ok[0]
    mci, cci = bootstrap_mean_cv(x, best.family, bootstrap, seed, level)
    return Fit(
        n,
        mean,
        cv,
        best.family,
        to_layout(best.family, best.params),
        cands,
        mci,
        cci,
        reason=f"lowest AIC among candidates not rejected by KS (p = {best.ks_p:.2f})",
    )
