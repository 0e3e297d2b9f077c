"""Line-simulation speed: the YAML-driven engine against a hand-written SimPy model of the same
system (with statistics on), and against Ciw on M/M/c. Run: ``python benchmarks/bench_sim.py``.

Measured in one process, one after the other, several repeats, best time kept (the usual way to
take noise from other processes out of a wall-clock comparison). Writes
benchmarks/results/sim.json and sim.md.
"""

from __future__ import annotations

import json
import platform
import random
import sys
import time
from pathlib import Path

import simpy

from vfactory import layout
from vfactory.sim import Line

RESULTS = Path(__file__).resolve().parent / "results"
REPEATS = 3

# -- the systems -------------------------------------------------------------------------------
MM1_HORIZON = 200_000.0
LINE_HORIZON = 100_000.0
MMC_HORIZON = 100_000.0

MM1_YAML = f"""
factory: {{name: mm1, time_unit: min, run_length: {MM1_HORIZON}, warmup: 0}}
products:
  job: {{route: [server], arrival: {{interarrival: {{dist: exponential, mean: 1.25}}}}}}
stations:
  server: {{process_time: {{dist: exponential, mean: 1.0}}}}
"""

# 5 stations, saturated supply, finite buffers (2 slots each), operation-dependent breakdowns
LINE_MEANS = [1.0, 1.1, 0.9, 1.05, 1.0]
LINE_BUFFER = 2
LINE_MTBF, LINE_MTTR = 100.0, 8.0
LINE_YAML = f"""
factory: {{name: five, time_unit: min, run_length: {LINE_HORIZON}, warmup: 0}}
products:
  part: {{route: [s0, s1, s2, s3, s4], arrival: saturated}}
stations:
""" + "".join(
    f"""  s{i}:
    process_time: {{dist: exponential, mean: {m}}}
    {"buffer: " + str(LINE_BUFFER) if i else ""}
    failures: [{{mode: operation, mtbf: {{dist: exponential, mean: {LINE_MTBF}}}, mttr: {{dist: exponential, mean: {LINE_MTTR}}}}}]
"""
    for i, m in enumerate(LINE_MEANS)
)


def engine(yaml_text: str):
    f = layout.loads(yaml_text, "bench.yaml")
    line = Line(f, 0)
    t0 = time.perf_counter()
    k = line.run()
    dt = time.perf_counter() - t0
    return dt, next(line.env._eid), k["completed"], k


# -- hand-written SimPy models with the same statistics ---------------------------------------------
def handwritten_mm1(seed: int = 1):
    """M/M/1 the way a SimPy user writes it: a Resource, a process per customer, statistics."""
    rng = random.Random(seed)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    stats = {"n": 0, "area": 0.0, "last": 0.0, "busy": 0.0, "lead": []}

    def wip(delta):
        now = env.now
        stats["area"] += stats["n"] * (now - stats["last"])
        stats["last"] = now
        stats["n"] += delta

    def customer():
        arrive = env.now
        wip(+1)
        with server.request() as req:
            yield req
            s = rng.expovariate(1.0)
            yield env.timeout(s)
            stats["busy"] += s
        wip(-1)
        stats["lead"].append(env.now - arrive)

    def source():
        while True:
            yield env.timeout(rng.expovariate(0.8))
            env.process(customer())

    env.process(source())
    t0 = time.perf_counter()
    env.run(until=MM1_HORIZON)
    dt = time.perf_counter() - t0
    wip(0)
    lead = stats["lead"]
    return (
        dt,
        next(env._eid),
        len(lead),
        {
            "wip": stats["area"] / MM1_HORIZON,
            "lead_time.mean": sum(lead) / len(lead),
            "utilisation": stats["busy"] / MM1_HORIZON,
        },
    )


def handwritten_line(seed: int = 1):
    """Five machines with Stores as buffers, blocking after service, breakdowns, statistics."""
    rng = random.Random(seed)
    env = simpy.Environment()
    n = len(LINE_MEANS)
    buffers = [None] + [simpy.Store(env, capacity=LINE_BUFFER) for _ in range(n - 1)]
    state_time = [{"work": 0.0, "down": 0.0, "blocked": 0.0, "starved": 0.0} for _ in range(n)]
    wip = [{"area": 0.0, "last": 0.0} for _ in range(n)]
    done = {"count": 0, "lead": []}

    def buf_stat(i):
        w = wip[i]
        now = env.now
        w["area"] += len(buffers[i].items) * (now - w["last"])
        w["last"] = now

    def machine(i):
        ttf = rng.expovariate(1 / LINE_MTBF)
        part_id = 0
        while True:
            t = env.now
            if i == 0:
                part = env.now  # saturated: a new part (its release time)
                part_id += 1
            else:
                buf_stat(i)
                part = yield buffers[i].get()
                buf_stat(i)
            state_time[i]["starved"] += env.now - t
            work = rng.expovariate(1 / LINE_MEANS[i])
            while work > 0:
                step = min(work, ttf)
                yield env.timeout(step)
                state_time[i]["work"] += step
                work -= step
                ttf -= step
                if ttf <= 0:
                    r = rng.expovariate(1 / LINE_MTTR)
                    yield env.timeout(r)
                    state_time[i]["down"] += r
                    ttf = rng.expovariate(1 / LINE_MTBF)
            t = env.now
            if i == n - 1:
                done["count"] += 1
                done["lead"].append(env.now - part)
            else:
                buf_stat(i + 1)
                yield buffers[i + 1].put(part)
                buf_stat(i + 1)
            state_time[i]["blocked"] += env.now - t

    for i in range(n):
        env.process(machine(i))
    t0 = time.perf_counter()
    env.run(until=LINE_HORIZON)
    dt = time.perf_counter() - t0
    return dt, next(env._eid), done["count"], {"throughput": done["count"] / LINE_HORIZON}


# -- Ciw on M/M/c --------------------------------------------------------------------------------------
MMC = {"lambda": 2.4, "mu": 1.0, "c": 3}


def ciw_mmc(seed: int = 1):
    import ciw

    net = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=MMC["lambda"])],
        service_distributions=[ciw.dists.Exponential(rate=MMC["mu"])],
        number_of_servers=[MMC["c"]],
    )
    ciw.seed(seed)
    q = ciw.Simulation(net)
    t0 = time.perf_counter()
    q.simulate_until_max_time(MMC_HORIZON)
    dt = time.perf_counter() - t0
    recs = q.get_all_records()
    waits = [r.waiting_time for r in recs]
    return dt, None, len(recs), {"wait.mean": sum(waits) / len(waits)}


MMC_YAML = f"""
factory: {{name: mmc, time_unit: min, run_length: {MMC_HORIZON}, warmup: 0}}
products:
  job: {{route: [server], arrival: {{interarrival: {{dist: exponential, mean: {1 / MMC["lambda"]}}}}}}}
stations:
  server: {{servers: {MMC["c"]}, process_time: {{dist: exponential, mean: {1 / MMC["mu"]}}}}}
"""


def best(fn, *args):
    runs = [fn(*args) for _ in range(REPEATS)]
    return min(runs, key=lambda r: r[0])


def row(name, engine_run, peer_run, peer_name):
    e_dt, e_ev, e_parts, _ = engine_run
    p_dt, p_ev, p_parts, _ = peer_run
    return {
        "case": name,
        "peer": peer_name,
        "engine_s": round(e_dt, 4),
        "peer_s": round(p_dt, 4),
        "engine_parts_per_s": round(e_parts / e_dt),
        "peer_parts_per_s": round(p_parts / p_dt),
        "engine_events_per_s": round(e_ev / e_dt) if e_ev else None,
        "peer_events_per_s": round(p_ev / p_dt) if p_ev else None,
        "speed_ratio_engine_over_peer": round((e_parts / e_dt) / (p_parts / p_dt), 3),
    }


def main() -> dict:
    rows = [
        row(
            "M/M/1 rho=0.8",
            best(engine, MM1_YAML),
            best(handwritten_mm1),
            "hand-written SimPy (Resource, process per customer)",
        ),
        row(
            "5-station line, breakdowns, buffers of 2",
            best(engine, LINE_YAML),
            best(handwritten_line),
            "hand-written SimPy (Stores, one process per machine)",
        ),
        row(
            "M/M/3 rho=0.8",
            best(engine, MMC_YAML),
            best(ciw_mmc),
            "Ciw " + __import__("ciw").__version__,
        ),
    ]
    out = {
        "benchmark": f"line simulation speed (parts simulated per wall-clock second, best of {REPEATS})",
        "python": sys.version.split()[0],
        "simpy": simpy.__version__,
        "machine": platform.machine(),
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sim.json").write_text(json.dumps(out, indent=2) + "\n")
    md = [
        "# Line simulation speed",
        "",
        out["benchmark"] + ".",
        "",
        "| case | peer | engine parts/s | peer parts/s | engine/peer | engine events/s |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        md.append(
            f"| {r['case']} | {r['peer']} | {r['engine_parts_per_s']:,} | {r['peer_parts_per_s']:,} | "
            f"{r['speed_ratio_engine_over_peer']:.2f}× | {r['engine_events_per_s'] or '':,} |"
        )
    (RESULTS / "sim.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return out


if __name__ == "__main__":
    main()
