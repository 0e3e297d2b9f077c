"""A quick capacity check of a layout: offered load per station from mean times (no simulation)."""

from __future__ import annotations

from .distribution import SECONDS_PER
from .model import Factory


def offered_load(f: Factory) -> list[str]:
    """Human-readable lines: each station's utilisation implied by arrival rates, and warnings."""
    unit = f.time_unit

    def mean(d) -> float:
        factor = SECONDS_PER[d.unit] / SECONDS_PER[unit] if d.unit else 1.0
        return d.mean_value * factor

    rates: dict[str, float] = {}
    saturated = False
    for pname, p in f.products.items():
        if p.arrival == "saturated":
            saturated = True
            continue
        if p.arrival.interarrival is None:
            continue  # trace-driven releases: no steady rate to check
        rates[pname] = p.arrival.lot_size / mean(p.arrival.interarrival)
    lines = []
    if saturated:
        lines.append("saturated supply: load check skipped for saturated products")
    for sname, st in f.stations.items():
        work = 0.0
        for pname, p in f.products.items():
            if sname in p.route and pname in rates:
                # a server loading a part is as unavailable as one processing it
                lt = st.load_time_for(pname)
                busy = mean(st.process_time_for(pname)) + (0.0 if lt is None else mean(lt))
                work += rates[pname] * busy / st.batch_size
        if work == 0:
            continue
        rho = work / st.servers
        note = ""
        if rho >= 1:
            note = (
                "  [overloaded: queue grows without bound]"
                if st.buffer is None
                else "  [overloaded]"
            )
        loads = " (load times included)" if st.load_time is not None else ""
        lines.append(
            f"  {sname}: offered load {rho:.3f}{loads} (before failures, setups and scrap){note}"
        )
    return lines
