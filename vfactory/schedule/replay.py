"""Replay a schedule on the simulated line, against online dispatching, under common random numbers.

A plan assumes mean durations and machines that never fail.  Here each machine of the line (a
server of a station, see :mod:`.from_layout`) works through its planned sequence in a SimPy model
with the layout's random process and setup times and its breakdowns (time- or
operation-dependent, repaired by the shared crews).  Policy *right-shift*: an operation starts
when its job's previous operation is done, the machine has finished the one before it (and its
setup) and, with ``hold_to_plan``, not before its planned start.  The setup is done as soon as the
machine is free, before the job arrives: the plan tells the machine what comes next.

The baseline is *online dispatching*: no plan; whenever a machine is free it picks, among the
operations waiting for it, the best by a rule (FIFO, SPT, EDD, CR, ATC, MWKR, with mean durations)
and only then sets up.

Common random numbers: the process time of an operation is drawn from the stream keyed by
``(seed, replication, "replay/process/<station>/<job>/<operation>")``, its setup from
``".../setup/<station>/<job>/<operation>"``, and each server's failures from the same streams as
the line simulation (``failure/<station>/<mode>/<server>/ttf|ttr``).  The numbers of an operation
therefore do not depend on the policy, the machine it lands on or the order of events, and the
paired difference between the policies has a much narrower interval than either mean.

An operation of ``n`` parts (or batches) lasts the sum of ``n`` process-time draws, so its mean is
the planned duration.  Not modelled: buffer capacities (the plan has none), scrap, and the shift
calendar unless ``shifts=True`` (then the plan's time axis is calendar time from 0).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import simpy

from vfactory.layout import SECONDS_PER, Distribution, Factory
from vfactory.schedule._flat import flatten
from vfactory.schedule.checker import check
from vfactory.schedule.dispatch import RULES, _rule_key
from vfactory.schedule.from_layout import changeover, machine_server, mean_time
from vfactory.schedule.problem import Job, Problem, ProblemError
from vfactory.schedule.solution import Objective, Schedule, ScheduledOperation, kpis
from vfactory.sim.failure import shifts as shift_calendar
from vfactory.sim.failure import time_failures, work
from vfactory.sim.random import Sampler, block_drawer, stream
from vfactory.sim.server import SETUP, STARVED, WORKING, Server
from vfactory.sim.stats import Estimate, estimate

KPIS = ("makespan", "total_weighted_tardiness", "tardy_jobs")
DEFAULT_RULE = {"makespan": "MWKR", "tardiness": "ATC", "weighted_sum": "ATC"}
"""Online rule per objective when none is given: most work remaining for the makespan, apparent
tardiness cost for weighted tardiness (both standard choices in the dispatching literature)."""


@dataclass(frozen=True)
class RealisedOperation:
    """What happened to one operation in one replication.

    ``start``: the machine is ready to work on it (setup done, job arrived); ``end``: work done,
    breakdowns included; ``work``: the sampled process time (net of breakdowns); ``setup``: the
    sampled setup before it (0 if none).
    """

    job: str
    index: int
    machine: str
    start: float
    end: float
    work: float
    setup: float = 0.0


@dataclass
class Run:
    """One policy in one replication: realised operations and KPIs."""

    policy: str
    replication: int
    operations: list[RealisedOperation]
    failures: int
    kpis: dict[str, float]

    def operation(self, job: str, index: int) -> RealisedOperation:
        for o in self.operations:
            if o.job == job and o.index == index:
                return o
        raise KeyError((job, index))


def _factor(d: Distribution, time_unit: str) -> float:
    return SECONDS_PER[d.unit] / SECONDS_PER[time_unit] if d.unit else 1.0


class RandomTimes:
    """Process and setup times of one replication, each operation on its own stream (CRN)."""

    def __init__(self, factory: Factory, problem: Problem, seed: int, replication: int):
        self.factory = factory
        self.seed = seed
        self.replication = replication
        self.unit = factory.time_unit
        self._jobs = {j.id: j for j in problem.jobs}
        self._station = {m: machine_server(factory, m)[0] for m in problem.machines}

    def work(self, job: str, index: int, machine: str) -> float:
        """Process time of operation ``index`` of ``job`` on ``machine``: n cycles, n from the plan."""
        j = self._jobs[job]
        planned = j.operations[index].duration(machine)
        station = self._station[machine]
        d = self.factory.stations[station].process_time_for(j.product)
        cycle = mean_time(d, self.unit)
        if planned <= 0 or cycle <= 0:
            return planned
        n = max(1, round(planned / cycle))
        rng = stream(self.seed, self.replication, f"replay/process/{station}/{job}/{index}")
        total = float(block_drawer(d, _factor(d, self.unit))(rng, n).sum())
        if abs(planned - n * cycle) <= 1e-9 * planned:
            return total
        # a duration that is not a whole number of cycles (a hand-made problem): keep its mean
        return planned * total / (n * cycle)

    def setup(self, machine: str, prev_product: str, job: str, index: int) -> float:
        """Changeover on ``machine`` from ``prev_product`` to the product of ``job`` (0 if none)."""
        station = self._station[machine]
        d = changeover(self.factory.stations[station], prev_product, self._jobs[job].product)
        if d is None:
            return 0.0
        rng = stream(self.seed, self.replication, f"replay/setup/{station}/{job}/{index}")
        return float(block_drawer(d, _factor(d, self.unit))(rng, 1)[0])


def _available(server: Server) -> simpy.Event:
    """An event that fires when the held (failed, off-shift) ``server`` is back."""
    ev = server.available = server.env.event()  # type: ignore[assignment]
    return ev


def _bind(server: Server, proc: simpy.Process) -> None:
    """The process a time-dependent failure or a shift end interrupts while it works."""
    server.proc = proc  # type: ignore[assignment]


class _Shop:
    """One replication of the line seen as a shop: its machines, breakdowns and crews."""

    def __init__(
        self,
        factory: Factory,
        problem: Problem,
        times: RandomTimes,
        *,
        failures: bool,
        shifts: bool,
    ):
        self.env = env = simpy.Environment()
        self.problem = problem
        self.times = times
        self.jobs: dict[str, Job] = {j.id: j for j in problem.jobs}
        seed, rep, unit = times.seed, times.replication, factory.time_unit
        crews = {n: simpy.Resource(env, capacity=c.size) for n, c in factory.repair_crews.items()}
        self.servers: dict[str, Server] = {}
        self.op_failures: dict[str, list] = {}
        for m in problem.machines:
            station, idx = machine_server(factory, m)
            server = self.servers[m] = Server(env, idx, 0.0)
            self.op_failures[m] = []
            for fl in factory.stations[station].failures if failures else ():
                key = f"failure/{station}/{fl.name}/{idx}"
                mtbf = Sampler(fl.mtbf, stream(seed, rep, key + "/ttf"), unit)
                mttr = Sampler(fl.mttr, stream(seed, rep, key + "/ttr"), unit)
                crew = crews.get(fl.crew) if fl.crew else None
                if fl.mode == "time":
                    env.process(time_failures(env, server, mtbf, mttr, crew))
                else:
                    self.op_failures[m].append([mtbf(), mtbf, mttr, crew])
        calendar = factory.factory.shifts
        if shifts and calendar is not None:
            env.process(
                shift_calendar(env, list(self.servers.values()), calendar.period, calendar.working)
            )
        self.done = {(j.id, i): env.event() for j in problem.jobs for i in range(len(j.operations))}
        self.left = len(self.done)
        self.finished = env.event()
        self.records: list[RealisedOperation] = []
        # online dispatching: release the job's next operation
        self.on_done: Callable[[str, int], None] | None = None

    # -- the work of one machine ------------------------------------------------------------------
    def _operate(self, m: str, duration: float):
        """Spend ``duration`` of operating time on ``m``: the line simulation's own work step."""
        return work(self.env, self.servers[m], duration, self.op_failures[m])

    def _setup(self, m: str, prev: str | None, job: str, index: int):
        if prev is None:
            return 0.0
        s = self.times.setup(m, prev, job, index)
        if s > 0:
            self.servers[m].set(SETUP)
            yield from self._operate(m, s)
            self.servers[m].set(STARVED)
        return s

    def _work(self, m: str, job: str, index: int, setup: float):
        env = self.env
        work = self.times.work(job, index, m)
        start = env.now
        self.servers[m].set(WORKING)
        yield from self._operate(m, work)
        self.servers[m].set(STARVED)
        self.records.append(RealisedOperation(job, index, m, start, env.now, work, setup))
        self.done[(job, index)].succeed()
        self.left -= 1
        if self.on_done is not None:
            self.on_done(job, index)
        if self.left == 0:
            self.finished.succeed()

    # -- policy 1: right-shift replay of the planned sequences --------------------------------
    def _follow(self, m: str, sequence: Sequence[ScheduledOperation], hold_to_plan: bool):
        env = self.env
        prev: str | None = None
        for so in sequence:
            job = self.jobs[so.job]
            setup = yield from self._setup(m, prev, so.job, so.index)
            if so.index > 0:
                yield self.done[(so.job, so.index - 1)]
            ready = max(job.release, so.start) if hold_to_plan else job.release
            if ready > env.now:
                yield env.timeout(ready - env.now)
            yield from self._work(m, so.job, so.index, setup)
            prev = job.product

    def replay_plan(self, schedule: Schedule, hold_to_plan: bool) -> list[RealisedOperation]:
        sequences = schedule.sequences
        for m in self.problem.machines:
            if sequences.get(m):
                _bind(
                    self.servers[m], self.env.process(self._follow(m, sequences[m], hold_to_plan))
                )
        self.env.run(until=self.finished)
        return self.records

    # -- policy 2: online dispatching ---------------------------------------------------------
    def dispatch_online(self, rule: str, atc_k: float = 2.0) -> list[RealisedOperation]:
        env, problem = self.env, self.problem
        flat = flatten(problem)
        key = _rule_key(rule, flat, atc_k)
        index_of = {
            (j.id, i): flat.job_ops[ji][i]
            for ji, j in enumerate(problem.jobs)
            for i in range(len(j.operations))
        }
        mean_d = [sum(d for _, d in a) / len(a) for a in flat.alts]
        rem_after = [0.0] * flat.n_ops  # mean work of this operation and the rest of its job
        for ops in flat.job_ops:
            acc = 0.0
            for o in reversed(ops):
                acc += mean_d[o]
                rem_after[o] = acc
        pool: dict[int, tuple[str, int, float]] = {}  # flat op -> (job, index, ready time)
        changed = [env.event()]

        def offer(job: str, index: int) -> None:
            pool[index_of[(job, index)]] = (job, index, env.now)
            ev, changed[0] = changed[0], env.event()
            ev.succeed()

        def next_op(job: str, index: int) -> None:
            if index + 1 < len(self.jobs[job].operations):
                offer(job, index + 1)

        self.on_done = next_op

        def releases():
            by_time = sorted(problem.jobs, key=lambda j: j.release)
            for t, group in itertools.groupby(by_time, key=lambda j: j.release):
                if t > env.now:
                    yield env.timeout(t - env.now)
                for j in group:
                    offer(j.id, 0)

        def machine(m: str, k: int):
            server = self.servers[m]
            prev: str | None = None
            while True:
                if server.held:
                    yield _available(server)
                    continue
                cands = [o for o in pool if k in flat.dur[o]]
                if not cands:
                    yield changed[0]
                    continue
                o = min(cands, key=lambda o: key(o, k, env.now, pool[o][2], rem_after[o]))
                job, index, _ = pool.pop(o)
                setup = yield from self._setup(m, prev, job, index)
                yield from self._work(m, job, index, setup)
                prev = self.jobs[job].product

        env.process(releases())
        for k, m in enumerate(problem.machines):
            _bind(self.servers[m], env.process(machine(m, k)))
        self.env.run(until=self.finished)
        return self.records

    def run(self, policy: str, replication: int, records: list[RealisedOperation]) -> Run:
        return Run(
            policy=policy,
            replication=replication,
            operations=sorted(records, key=lambda o: (o.start, o.machine)),
            failures=sum(s.failures_count for s in self.servers.values()),
            kpis=kpis(self.problem, records),  # type: ignore[arg-type]
        )


# -- result ------------------------------------------------------------------------------------
@dataclass
class ReplayResult:
    """Replications of a plan (right-shift) and of online dispatching, with 95 % Student-t CIs."""

    factory: str
    time_unit: str
    seed: int
    objective: str
    rule: str
    hold_to_plan: bool
    failures: bool
    shifts: bool
    planned: dict[str, float]
    schedule_runs: list[Run]
    online_runs: list[Run]

    @property
    def replications(self) -> int:
        return len(self.schedule_runs)

    def realised(self, kpi: str) -> Estimate:
        """The plan replayed: mean and CI of ``kpi`` (makespan, total_weighted_tardiness, …)."""
        return estimate(r.kpis[kpi] for r in self.schedule_runs)

    def online(self, kpi: str) -> Estimate:
        """Online dispatching by ``rule``: mean and CI of ``kpi``."""
        return estimate(r.kpis[kpi] for r in self.online_runs)

    def difference(self, kpi: str) -> Estimate:
        """Paired difference plan − online per replication (negative: the plan does better)."""
        return estimate(
            a.kpis[kpi] - b.kpis[kpi]
            for a, b in zip(self.schedule_runs, self.online_runs, strict=True)
        )

    def deviation(self, kpi: str) -> Estimate:
        """Realised − planned (the plan's value is a constant)."""
        return estimate(r.kpis[kpi] - self.planned[kpi] for r in self.schedule_runs)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "factory": self.factory,
            "time_unit": self.time_unit,
            "replications": self.replications,
            "seeds": {
                "base": self.seed,
                "replications": [r.replication for r in self.schedule_runs],
            },
            "objective": self.objective,
            "policy": {
                "schedule": "right-shift" + (", hold to plan" if self.hold_to_plan else ""),
                "online": self.rule,
                "failures": self.failures,
                "shifts": self.shifts,
            },
            "planned": dict(self.planned),
            "schedule": {k: self.realised(k).to_dict() for k in KPIS},
            "online": {k: self.online(k).to_dict() for k in KPIS},
            "schedule_minus_online": {k: self.difference(k).to_dict() for k in KPIS},
            "realised_minus_planned": {k: self.deviation(k).to_dict() for k in KPIS},
            "per_replication": [
                {
                    "replication": a.replication,
                    "schedule": dict(a.kpis, failures=a.failures),
                    "online": dict(b.kpis, failures=b.failures) if b is not None else None,
                }
                for a, b in itertools.zip_longest(self.schedule_runs, self.online_runs)
            ],
        }
        return out

    def operations(self, replication: int = 0) -> dict[str, list[dict[str, Any]]]:
        """Realised operations of one replication, per policy (for a realised Gantt chart)."""
        return {
            "schedule": [asdict(o) for o in self.schedule_runs[replication].operations],
            "online": [asdict(o) for o in self.online_runs[replication].operations],
        }

    def table(self) -> str:
        """Plain-text summary: planned, replayed, online and the paired difference."""
        u = self.time_unit
        rows = [
            ("KPI", "planned", "plan replayed", f"online {self.rule}", "plan − online (paired)")
        ]
        for kpi, label in (
            ("makespan", f"makespan [{u}]"),
            ("total_weighted_tardiness", f"weighted tardiness [{u}]"),
            ("tardy_jobs", "tardy jobs"),
        ):
            rows.append(
                (
                    label,
                    _fmt_num(self.planned[kpi]),
                    _fmt(self.realised(kpi)),
                    _fmt(self.online(kpi)),
                    _fmt(self.difference(kpi)),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [
            f"replay: {self.replications} replications (seed {self.seed}, replications "
            f"0..{self.replications - 1}), 95 % CI (t); breakdowns "
            f"{'on' if self.failures else 'off'}; shifts {'on' if self.shifts else 'off'}; "
            f"right-shift{' held to the plan' if self.hold_to_plan else ''}",
        ]
        for i, r in enumerate(rows):
            cells = [r[0].ljust(widths[0])] + [
                c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)
            ]
            lines.append("  ".join(cells))
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


def _fmt_num(x: float) -> str:
    return f"{x:.6g}"


def _fmt(e: Estimate) -> str:
    if e.half_width is None:
        return _fmt_num(e.mean)
    return f"{e.mean:.5g} ± {e.half_width:.2g}"


# -- entry -------------------------------------------------------------------------------------
def _check_plan(problem: Problem, schedule: Schedule) -> None:
    """The schedule must be a feasible plan of ``problem`` whose sequences cannot deadlock."""
    violations = check(problem, schedule)
    if violations:
        raise ProblemError(
            f"the schedule does not fit the problem ({len(violations)} violation(s)): "
            + "; ".join(violations[:3])
        )
    # job precedences + machine sequences must form an acyclic graph (zero-length ties aside)
    succ: dict[tuple[str, int], list[tuple[str, int]]] = {}
    indeg: dict[tuple[str, int], int] = {}
    for j in problem.jobs:
        for i in range(len(j.operations)):
            indeg.setdefault((j.id, i), 0)
            if i > 0:
                succ.setdefault((j.id, i - 1), []).append((j.id, i))
                indeg[(j.id, i)] += 1
    for seq in schedule.sequences.values():
        for a, b in zip(seq, seq[1:], strict=False):
            succ.setdefault((a.job, a.index), []).append((b.job, b.index))
            indeg[(b.job, b.index)] += 1
    ready = [n for n, d in indeg.items() if d == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for s in succ.get(n, ()):
            indeg[s] -= 1
            if indeg[s] == 0:
                ready.append(s)
    if seen < len(indeg):
        raise ProblemError("the schedule's machine sequences contradict its job routes (a cycle)")


def replay(
    factory: Factory,
    problem: Problem,
    schedule: Schedule,
    replications: int = 20,
    seed: int | None = None,
    rule: str | None = None,
    *,
    hold_to_plan: bool = False,
    failures: bool = True,
    shifts: bool = False,
) -> ReplayResult:
    """Replay ``schedule`` and dispatch ``problem`` online by ``rule``, ``replications`` times.

    ``problem`` must be on the layout's machines (:func:`.from_layout.problem_from_layout`).
    ``seed`` defaults to the layout's seed; ``rule`` to :data:`DEFAULT_RULE` of the schedule's
    objective.  ``failures=False`` switches breakdowns off; ``shifts=True`` applies the layout's
    working calendar (the plan ignores it).  Replication r uses the streams keyed by (seed, r).
    """
    if replications < 1:
        raise ValueError(f"replications must be >= 1, got {replications}")
    objective = Objective.parse(schedule.objective)
    rule = (rule or DEFAULT_RULE[objective.kind]).upper()
    if rule not in RULES:
        raise ValueError(f"unknown dispatching rule {rule!r}; choose one of {RULES}")
    for m in problem.machines:
        machine_server(factory, m)  # every machine must be a server of the layout
    _check_plan(problem, schedule)
    seed = factory.factory.seed if seed is None else seed
    planned = kpis(problem, schedule.operations)
    plan_runs, online_runs = [], []
    for r in range(replications):
        # each policy gets its own RandomTimes: equal numbers come from the stream keys alone
        shop = _Shop(
            factory,
            problem,
            RandomTimes(factory, problem, seed, r),
            failures=failures,
            shifts=shifts,
        )
        plan_runs.append(shop.run("schedule", r, shop.replay_plan(schedule, hold_to_plan)))
        shop = _Shop(
            factory,
            problem,
            RandomTimes(factory, problem, seed, r),
            failures=failures,
            shifts=shifts,
        )
        online_runs.append(shop.run(f"online:{rule}", r, shop.dispatch_online(rule)))
    return ReplayResult(
        factory=factory.name,
        time_unit=factory.time_unit,
        seed=seed,
        objective=str(objective),
        rule=rule,
        hold_to_plan=hold_to_plan,
        failures=failures,
        shifts=shifts,
        planned=planned,
        schedule_runs=plan_runs,
        online_runs=online_runs,
    )
