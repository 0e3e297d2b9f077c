"""Discovery from a cleaned log: stations, buffers, routes per product with frequencies, releases."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .clean import CleanLog, Order


@dataclass
class Discovery:
    stations: list[str]  # in line order
    buffers: dict[str, dict]  # buffer location -> {"before": station, "visits": n, "max_parts": n}
    routes: dict[
        str, list[tuple[tuple[str, ...], int]]
    ]  # product -> [(route, orders)], commonest first
    releases: dict[str, list[float]]  # product -> release times of completed orders, sorted
    servers: dict[str, int]

    def main_route(self, product: str) -> tuple[str, ...]:
        return self.routes[product][0][0]

    def to_dict(self) -> dict:
        return {
            "stations": self.stations,
            "servers": self.servers,
            "buffers": self.buffers,
            "routes": {
                p: [{"route": list(r), "orders": n} for r, n in rs] for p, rs in self.routes.items()
            },
            "releases": self.releases,
        }


def discover(log: CleanLog) -> Discovery:
    done = log.completed
    routes: dict[str, Counter] = {}
    for o in done:
        routes.setdefault(o.product, Counter())[o.route] += 1
    ranked = {
        p: sorted(c.items(), key=lambda rn: (-rn[1], rn[0])) for p, c in sorted(routes.items())
    }
    return Discovery(
        stations=_line_order(done),
        buffers=_buffers(done),
        routes=ranked,
        releases={p: sorted(o.release for o in done if o.product == p) for p in ranked},
        servers={s: n for s, n in log.servers.items()},
    )


def _line_order(orders: list[Order]) -> list[str]:
    """Stations ordered so that every observed precedence is respected as far as possible."""
    after: Counter = Counter()
    names: dict[str, None] = {}
    for o in orders:
        r = o.route
        for s in r:
            names.setdefault(s, None)
        for i, a in enumerate(r):
            for b in r[i + 1 :]:
                after[(a, b)] += 1

    # a station's rank: how many stations it follows more often than it precedes
    def rank(s: str) -> tuple[int, str]:
        return (sum(1 for t in names if after[(t, s)] > after[(s, t)]), s)

    return sorted(names, key=rank)


def _buffers(orders: list[Order]) -> dict[str, dict]:
    """Buffer locations, the station each one feeds, and the most parts seen in it at once."""
    before: dict[str, Counter] = {}
    spans: dict[str, list[tuple[float, float]]] = {}
    for o in orders:
        vs = o.visits
        for i, v in enumerate(vs):
            if v.cls != "buffer" or v.depart is None:
                continue
            nxt = next((w.location for w in vs[i + 1 :] if w.cls == "station"), "")
            before.setdefault(v.location, Counter())[nxt] += 1
            spans.setdefault(v.location, []).append((v.arrive, v.depart))
    from .clean import _max_concurrency

    return {
        b: {
            "before": c.most_common(1)[0][0] or None,
            "visits": sum(c.values()),
            "max_parts": _max_concurrency(spans[b]),
        }
        for b, c in sorted(before.items())
    }
