"""From a shop-floor event log to a validated layout: mapping, ingest, cleaning with a data-quality
report, discovery, measured KPIs, input modelling, layout output (replay or stochastic), twin check.

    from vfactory.calibrate import calibrate, load_mapping
    cal = calibrate("log.csv", load_mapping("mapping.yaml"), mode="replay")
    print(cal.built.yaml); print(cal.twin)
"""

from __future__ import annotations

from .calibration import Calibration, calibrate, input_fits
from .clean import CleanLog, DataQuality, clean
from .discover import Discovery, discover
from .errors import LogError
from .fit import Fit, fit
from .ingest import ingest
from .mapping import Mapping
from .mapping import from_dict as mapping_from_dict
from .mapping import load as load_mapping
from .measure import Measured, measure

__all__ = [
    "Calibration",
    "CleanLog",
    "DataQuality",
    "Discovery",
    "Fit",
    "LogError",
    "Mapping",
    "Measured",
    "calibrate",
    "clean",
    "discover",
    "fit",
    "ingest",
    "input_fits",
    "load_mapping",
    "mapping_from_dict",
    "measure",
]
