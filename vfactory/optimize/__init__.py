"""Optuna search over process conditions, and recommendations."""

from .recommend import recommend
from .study import open_study, run_study

__all__ = ["open_study", "recommend", "run_study"]
