"""Names of the KPIs a line simulation reports (objectives and constraints refer to them)."""

from __future__ import annotations

LINE_KPIS = (
    "throughput",
    "throughput_per_hour",
    "wip",
    "lead_time.mean",
    "lead_time.p50",
    "lead_time.p95",
    "released",
    "completed",
    "scrapped",
    "lost",
    "scrap_rate",
    "energy_kwh",
    "energy_per_good_part_kwh",
)
STATE_KPIS = ("working", "setup", "blocked", "starved", "down", "off_shift")
STATION_KPIS = STATE_KPIS + (
    "utilisation",
    "active",
    "buffer_wip",
    "wait.mean",
    "p_wait",
    "processed",
    "scrapped",
    "failures",
    "energy_kwh",
)


def kpi_names(stations) -> list[str]:
    """Every KPI name for a line with these stations, e.g. 'stations.saw.utilisation'."""
    names = list(LINE_KPIS)
    for s in stations:
        names += [f"stations.{s}.{k}" for k in STATION_KPIS]
    return names
