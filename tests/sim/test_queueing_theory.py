"""The line-simulation rows of VALIDATION.md, written as YAML layouts and run through the public API.

Each check: the Student-t 95 % CI over replications contains the theoretical value, and the
half-width is small (a few percent), so the check has teeth. Seeds are fixed for repeatability:
each case derives its seed from its own name (crc32), never picked by hand, so that the cases use
independent random numbers (with one shared seed, common random numbers would make all cases
err in the same direction together).
"""

from __future__ import annotations

import zlib

import pytest

from vfactory import layout, sim


def seed_for(case: str) -> int:
    return zlib.crc32(case.encode())


def simulate(yaml_text: str, replications: int):
    factory = layout.loads(yaml_text, filename="validation.yaml")
    return sim.run(factory, replications=replications)


def check(result, kpi: str, reference: float, max_rel_half_width: float, digits: int | None = None):
    """The 95 % CI of ``kpi`` contains ``reference`` and is at most ``max_rel_half_width`` wide.

    ``digits``: decimals to which the published reference is rounded; the reference is then the
    interval reference ± half a unit in the last place, and the CI must overlap it.
    """
    est = result[kpi]
    assert est.half_width is not None
    rel = est.half_width / abs(reference)
    print(f"{kpi}: {est.mean:.5g} ± {est.half_width:.3g} ({rel:.2%}) vs {reference:.5g}")
    assert rel <= max_rel_half_width, (
        f"{kpi}: CI too wide to be a check ({est.half_width:.4g} > {max_rel_half_width:.0%} of {reference})"
    )
    rounding = 0.5 * 10.0**-digits if digits is not None else 0.0
    assert est.low <= reference + rounding and reference - rounding <= est.high, (
        f"{kpi}: 95 % CI [{est.low:.5g}, {est.high:.5g}] misses {reference}"
        + (f" ± {rounding:g}" if rounding else "")
    )


def single_station(
    interarrival: str,
    service: str,
    servers: int = 1,
    buffer: str = "null",
    when_full: str = "block",
    run_length: float = 100_000,
    warmup: float = 2_000,
    seed: int = 0,
) -> str:
    return f"""
factory: {{name: queue, time_unit: min, run_length: {run_length}, warmup: {warmup}, seed: {seed}}}
products:
  job:
    route: [server]
    arrival: {{interarrival: {interarrival}, when_full: {when_full}}}
stations:
  server:
    servers: {servers}
    buffer: {buffer}
    process_time: {service}
"""


def test_mm1_lambda_09():
    # L = 9, W = 10, Wq = 9, Lq = 8.1 (heavy traffic: long runs for a tight CI)
    r = simulate(
        single_station(
            "{dist: exponential, mean: 1.1111111111111112}",
            "{dist: exponential, mean: 1}",
            run_length=150_000,
            warmup=5_000,
            seed=seed_for("mm1"),
        ),
        replications=20,
    )
    check(r, "wip", 9.0, 0.03)
    check(r, "lead_time.mean", 10.0, 0.03)
    check(r, "stations.server.wait.mean", 9.0, 0.03)
    check(r, "stations.server.buffer_wip", 8.1, 0.03)
    check(r, "stations.server.utilisation", 0.9, 0.01)


def test_mmc_erlang_c():
    # lambda = 0.2, mu = 0.1, c = 3: P(wait) = 4/9, Wq = 4.444
    r = simulate(
        single_station(
            "{dist: exponential, mean: 5}",
            "{dist: exponential, mean: 10}",
            servers=3,
            run_length=400_000,
            warmup=2_000,
            seed=seed_for("erlang-c"),
        ),
        replications=10,
    )
    check(r, "stations.server.p_wait", 4 / 9, 0.02)
    check(r, "stations.server.wait.mean", 4.444, 0.03)


def test_mmc_two_servers_heavy():
    # lambda = 1.8, mu = 1, c = 2: Wq = 4.263
    r = simulate(
        single_station(
            "{dist: exponential, mean: 0.5555555555555556}",
            "{dist: exponential, mean: 1}",
            servers=2,
            run_length=60_000,
            warmup=2_000,
            seed=seed_for("mm2"),
        ),
        replications=20,
    )
    check(r, "stations.server.wait.mean", 4.263, 0.03)


def test_md1():
    # rho = 0.9, deterministic service 1: Lq = 4.05, Wq = 4.5, W = 5.5
    r = simulate(
        single_station(
            "{dist: exponential, mean: 1.1111111111111112}",
            "1",
            run_length=100_000,
            warmup=2_000,
            seed=seed_for("md1"),
        ),
        replications=20,
    )
    check(r, "stations.server.buffer_wip", 4.05, 0.03)
    check(r, "stations.server.wait.mean", 4.5, 0.03)
    check(r, "lead_time.mean", 5.5, 0.03)


def test_mg1_pollaczek_khinchine():
    # rho = 0.9, E[S] = 1, cs^2 = 0.5 (gamma service): Wq = 6.75
    r = simulate(
        single_station(
            "{dist: exponential, mean: 1.1111111111111112}",
            "{dist: gamma, mean: 1, cv: 0.7071067811865476}",
            run_length=120_000,
            warmup=2_000,
            seed=seed_for("mg1"),
        ),
        replications=20,
    )
    check(r, "stations.server.wait.mean", 6.75, 0.03)


def test_mm1k_lost_arrivals():
    # rho = 1, K = 5 places in the system (1 in service + 4 waiting), arrivals lost when full:
    # throughput = lambda (1 - P_K) = 5/6
    r = simulate(
        single_station(
            "{dist: exponential, mean: 1}",
            "{dist: exponential, mean: 1}",
            buffer="4",
            when_full="balk",
            run_length=50_000,
            warmup=500,
            seed=seed_for("mm1k"),
        ),
        replications=10,
    )
    check(r, "throughput", 5 / 6, 0.01)


def saturated_line(
    buffers: list[int | None],
    failures: str = "",
    service: str = "{dist: exponential, mean: 1}",
    run_length: float = 20_000,
    seed: int = 0,
) -> str:
    n = len(buffers) + 1
    names = [f"m{i + 1}" for i in range(n)]
    stations = ""
    for i, name in enumerate(names):
        buf = "" if i == 0 else f"\n    buffer: {buffers[i - 1]}"
        stations += f"  {name}:\n    process_time: {service}{buf}{failures}\n"
    return f"""
factory: {{name: serial, time_unit: min, run_length: {run_length}, warmup: 1000, seed: {seed}}}
products:
  part:
    route: [{", ".join(names)}]
    arrival: saturated
stations:
{stations}"""


@pytest.mark.parametrize(
    "k, reference",
    [(2, 0.6667), (3, 22 / 39), (4, 0.5148), (5, 0.4858), (6, 0.4667)],
    ids=lambda x: str(x),
)
def test_saturated_line_without_buffers(k, reference):
    r = simulate(saturated_line([0] * (k - 1), seed=seed_for(f"line-{k}")), replications=10)
    check(r, "throughput", reference, 0.01, digits=4)
    # blocking after service: the first station is never starved, the last never blocked
    assert r["stations.m1.starved"].mean == 0.0
    assert r[f"stations.m{k}.blocked"].mean == 0.0


@pytest.mark.parametrize("b", [0, 1, 2, 3, 4, 5])
def test_two_stations_with_buffer(b):
    r = simulate(saturated_line([b], seed=seed_for(f"two-{b}")), replications=10)
    check(r, "throughput", (b + 2) / (b + 3), 0.01)


@pytest.mark.parametrize(
    "buffers, reference", [((1, 1), 0.6705), ((2, 0), 0.6374), ((0, 2), 0.6374)]
)
def test_three_stations_buffer_allocation(buffers, reference):
    r = simulate(saturated_line(list(buffers), seed=seed_for(f"three-{buffers}")), replications=10)
    check(r, "throughput", reference, 0.01, digits=4)


GERSHWIN_FAILURES = """
    failures:
      - {name: breakdown, mode: operation, mtbf: {dist: exponential, mean: 100}, mttr: {dist: exponential, mean: 10}}"""


@pytest.mark.parametrize("n_gershwin, reference", [(2, 0.5900), (10, 0.7859), (20, 0.8300)])
def test_gershwin_berman_unreliable_two_machine_line(n_gershwin, reference):
    # mu = 1, p = 0.01, r = 0.1, operation-dependent failures; Gershwin's N = B + 2
    r = simulate(
        saturated_line(
            [n_gershwin - 2],
            failures=GERSHWIN_FAILURES,
            run_length=60_000,
            seed=seed_for(f"gershwin-{n_gershwin}"),
        ),
        replications=12,
    )
    check(r, "throughput", reference, 0.01, digits=4)


def test_buzacott_deterministic_line_without_buffers():
    # unit process times, p = 0.01, r = 0.1 on both machines: 1 / (1 + 0.1 + 0.1)
    r = simulate(
        saturated_line(
            [0],
            failures=GERSHWIN_FAILURES,
            service="1",
            run_length=100_000,
            seed=seed_for("buzacott"),
        ),
        replications=10,
    )
    check(r, "throughput", 1 / 1.2, 0.01)
