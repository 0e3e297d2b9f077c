"""The optimisation driver: Optuna ask/tell in batches, evaluated on a ``cluster`` executor.

- Storage: an SQLite file by default (opens in optuna-dashboard), an Optuna journal file
  (``*.log``, for many processes on a shared disk) or an RDB URL (PostgreSQL).
- A space-filling design (Sobol / LHS) is enqueued once, when the study is created.
- Identical points are not simulated twice: a point already evaluated is told its known values.
- A driver that dies leaves RUNNING trials in storage; the next run re-evaluates exactly those
  trials and tells them, so none is left RUNNING and none is duplicated. A trial whose worker died
  (beyond the executor's retries) is failed and its point enqueued again.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna

from ..layout import Factory, to_dict
from ..layout.study import Study
from .evaluate import evaluate_task
from .space import canonical, initial_design, search_space

optuna.logging.set_verbosity(optuna.logging.WARNING)
# Optuna 5 deprecates constraints_func (removal planned for v7) for Trial.set_constraint; it
# works as documented until then, and the notice is noise in users' logs and job artifacts.
warnings.filterwarnings("ignore", message=r".*`constraints_func` has been deprecated", category=FutureWarning)

SPEC_ATTR = "vfactory_spec"
MAX_REPEATS = 30  # consecutive batches without a new point before the search stops


def storage_for(spec_storage: str | None, default_path: Path):
    """An Optuna storage from a URL, a journal file (*.log) or an SQLite file path."""
    target = spec_storage or str(default_path)
    if "://" in target:
        return _rdb(target, heartbeat_interval=None)
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix in (".log", ".journal"):
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    return _rdb(f"sqlite:///{path.resolve()}")


def _rdb(url: str, **kwargs: Any) -> optuna.storages.RDBStorage:
    """An RDB storage; retried when another process creates the same fresh database's tables
    at the same moment (several drivers or a dashboard started together on one new file: the
    loser of the race gets an IntegrityError on Optuna's schema-version row)."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    for attempt in range(5):
        try:
            return optuna.storages.RDBStorage(url, **kwargs)
        except (IntegrityError, OperationalError):
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _constraints(trial: optuna.trial.FrozenTrial) -> list[float]:
    return trial.user_attrs.get("constraints", [])


def make_sampler(spec: Study) -> optuna.samplers.BaseSampler:
    cons = _constraints if spec.constraints else None
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=spec.seed)
    if spec.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=spec.seed, constraints_func=cons)
    if spec.sampler == "gp":
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ValueError(
                "the 'gp' sampler needs PyTorch (pip install torch); use 'tpe' otherwise"
            ) from None
        return optuna.samplers.GPSampler(seed=spec.seed, constraints_func=cons)
    n_startup = max(spec.initial_design.n if spec.initial_design.kind != "none" else 0, 5)
    return optuna.samplers.TPESampler(
        seed=spec.seed, constraints_func=cons, n_startup_trials=n_startup, multivariate=True
    )


def spec_fingerprint(factory: Factory, spec: Study) -> str:
    data = to_dict(factory)
    data.pop("study", None)
    return canonical({"layout": json.dumps(data, sort_keys=True), "spec": spec.model_dump_json()})


def open_study(
    factory: Factory, spec: Study, storage=None, workdir: Path | None = None
) -> optuna.Study:
    name = spec.name or factory.name
    workdir = workdir or Path("results") / factory.name
    st = storage if storage is not None else storage_for(spec.storage, workdir / "study.db")
    directions = [o.direction for o in spec.objectives]
    study = optuna.create_study(
        study_name=name,
        storage=st,
        sampler=make_sampler(spec),
        directions=directions,
        load_if_exists=True,
    )
    fp = spec_fingerprint(factory, spec)
    old = study.user_attrs.get(SPEC_ATTR)
    if old is None:
        study.set_user_attr(SPEC_ATTR, fp)
        study.set_user_attr("objectives", [o.kpi for o in spec.objectives])
        for point in initial_design(spec):
            study.enqueue_trial(point, skip_if_exists=True)
    elif old != fp:
        raise ValueError(
            f"study {name!r} in this storage was made for another layout or study spec; "
            "give the study another name (study.name) or another storage"
        )
    return study


def constraint_values(spec: Study, out: dict) -> list[float]:
    """Optuna's convention: one value per bound, feasible when <= 0."""
    values = []
    for c in spec.constraints:
        m = out[c.kpi]["mean"]
        if c.min is not None:
            values.append(c.min - m)
        if c.max is not None:
            values.append(m - c.max)
    return values


class Evaluator:
    """Turns trials into tasks and results into tell() calls."""

    def __init__(self, factory: Factory, spec: Study, surrogate: dict | None = None, inprocess: bool = False):
        self.factory = factory
        self.spec = spec
        self.surrogate = surrogate
        self.inprocess = inprocess
        self.layout = to_dict(factory)
        self.layout.pop("study", None)
        self.kpis = list(
            dict.fromkeys([o.kpi for o in spec.objectives] + [c.kpi for c in spec.constraints])
        )

    def task(self, params: dict[str, Any], real: bool = False) -> dict:
        """A trial as a plain-data task; ``real`` bypasses the surrogate (verification)."""
        task = {
            "layout": self.layout,
            "overrides": dict(params),
            "replications": self.spec.replications,
            "seed": self.factory.factory.seed,
            "kpis": self.kpis,
            "inprocess": self.inprocess,
        }
        if self.surrogate is not None and not real:
            task["surrogate"] = self.surrogate
        return task

    def tell(
        self, study: optuna.Study, trial_number: int, out: dict, memo_of: int | None = None
    ) -> None:
        trial = optuna.trial.Trial(
            study,
            study._storage.get_trial_id_from_study_id_trial_number(study._study_id, trial_number),
        )
        trial.set_user_attr("constraints", constraint_values(self.spec, out))
        trial.set_user_attr(
            "kpis",
            {
                k: {"mean": v["mean"], "half_width": v["half_width"]}
                for k, v in out.items()
                if not k.startswith("_")
            },
        )
        trial.set_user_attr("bottleneck", out.get("_bottleneck"))
        if memo_of is not None:
            trial.set_user_attr("memo_of", memo_of)
        values = [out[o.kpi]["mean"] for o in self.spec.objectives]
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
            study.tell(trial_number, state=optuna.trial.TrialState.FAIL)
            return
        study.tell(trial_number, values)


def _finite_space_size(spec: Study) -> int | None:
    size = 1
    for v in spec.variables.values():
        if v.choices is not None:
            size *= len(v.choices)
        elif v.type == "int" or v.step is not None:
            step = v.step or 1
            size *= int(math.floor((v.high - v.low) / step + 1e-9)) + 1  # type: ignore[operator]
        else:
            return None
    return size


def run_study(
    factory: Factory,
    spec: Study | None = None,
    executor=None,
    storage=None,
    workdir: Path | None = None,
    progress: bool = False,
    max_trials: int | None = None,
    on_trial: Callable[[int], None] | None = None,
    inprocess: bool = False,
) -> optuna.Study:
    """Run (or resume) the study until its budget is spent; returns the Optuna study."""
    spec = spec or factory.study
    if spec is None:
        raise ValueError("the layout has no study section; give one (see vfactory optimize --help)")
    study = open_study(factory, spec, storage, workdir)
    if inprocess:
        import solvers  # noqa: F401  (in-process physics: import once, before any trial)
    surrogate = None
    if spec.surrogate is not None:
        surrogate = study.user_attrs.get("surrogate")
        if surrogate is None:  # fitted once per study; a resumed study reuses it
            from .surrogate import fit

            surrogate = fit(factory, spec, spec.surrogate.design, spec.surrogate.kind, spec.seed, inprocess).to_dict()
            study.set_user_attr("surrogate", surrogate)
    ev = Evaluator(factory, spec, surrogate, inprocess)
    space = search_space(spec)
    budget = max_trials or spec.budget.trials
    deadline = time.monotonic() + spec.budget.time_s if spec.budget.time_s else None
    finite = _finite_space_size(spec)

    def memo() -> dict[str, optuna.trial.FrozenTrial]:
        done = {}
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
            done.setdefault(canonical(t.params), t)
        return done

    def n_complete() -> int:
        """Distinct points evaluated: repeats of a known point are told from memory, not counted."""
        return len(memo())

    bar = _Bar(progress, budget, spec.name or factory.name)
    try:
        # a previous driver died: finish its RUNNING trials (same numbers, no duplicates)
        stranded = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        if stranded:
            _evaluate(study, ev, [(t.number, dict(t.params)) for t in stranded], executor, memo())
        bar.update(n_complete())
        batch = spec.batch_size or (executor.n_workers if executor is not None else 1)
        repeats = 0
        while True:
            done = n_complete()
            if budget is not None and done >= budget:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            if finite is not None and done >= finite:
                break  # every point of a finite space has been evaluated
            if repeats >= MAX_REPEATS:
                break  # the sampler keeps proposing known points: the search has converged
            want = batch if budget is None else min(batch, budget - done)
            asked = []
            for _ in range(want):
                t = study.ask(space)
                asked.append((t.number, dict(t.params)))
            _evaluate(study, ev, asked, executor, memo())
            repeats = repeats + 1 if n_complete() == done else 0
            bar.update(n_complete())
            if on_trial is not None:
                on_trial(n_complete())
        if surrogate is not None:
            verify_best(study, ev, spec, executor)
    finally:
        bar.close()
    return study


def verify_best(study: optuna.Study, ev: Evaluator, spec: Study, executor=None) -> None:
    """Re-evaluate the best surrogate-driven candidates with the real solver (user attr 'verified')."""
    done = [t for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
            if "memo_of" not in t.user_attrs]
    feasible = [t for t in done if all(c <= 0 for c in t.user_attrs.get("constraints", []))] or done
    o = spec.objectives[0]
    ranked = sorted(feasible, key=lambda t: t.values[0], reverse=o.direction == "maximize")
    record = dict(study.user_attrs.get("verified", {}))  # finished trials are immutable: keep it on the study
    todo = [t for t in ranked[: spec.surrogate.verify] if str(t.number) not in record]  # type: ignore[union-attr]
    if not todo:
        return
    tasks = [ev.task(dict(t.params), real=True) for t in todo]
    if executor is None:
        outs = [evaluate_task(task) for task in tasks]
    else:
        outs = executor.run_all(evaluate_task, tasks)
    for t, out in zip(todo, outs):
        cons = constraint_values(spec, out)
        kpis = {k: {"mean": v["mean"], "half_width": v["half_width"]} for k, v in out.items() if not k.startswith("_")}
        record[str(t.number)] = {"kpis": kpis, "constraints": cons}
    study.set_user_attr("verified", record)


def _evaluate(study, ev: Evaluator, asked: list[tuple[int, dict]], executor, known: dict) -> None:
    """Evaluate asked trials: known points are told from memory, the rest run as tasks."""
    todo: list[tuple[int, dict]] = []
    first_of: dict[str, int] = {}
    twins: list[tuple[int, str]] = []
    for number, params in asked:
        key = canonical(params)
        if key in known:
            t = known[key]
            ev.tell(
                study,
                number,
                {
                    k: {"mean": v["mean"], "half_width": v["half_width"]}
                    for k, v in t.user_attrs["kpis"].items()
                },
                memo_of=t.number,
            )
        elif key in first_of:
            twins.append((number, key))
        else:
            first_of[key] = number
            todo.append((number, params))
    outs: dict[str, dict] = {}
    if executor is None:
        results = []
        for i, (_, params) in enumerate(todo):
            try:
                results.append((i, evaluate_task(ev.task(params)), None))
            except Exception as exc:  # a user error (e.g. an infeasible parameter combination)
                results.append((i, None, f"{type(exc).__name__}: {exc}"))
    else:
        results = [
            (r.index, r.value, None if r.error is None else (r.error.kind, str(r.error)))
            for r in executor.map(evaluate_task, [ev.task(p) for _, p in todo])
        ]
    for i, value, error in results:
        number, params = todo[i]
        if error is None:
            ev.tell(study, number, value)
            outs[canonical(params)] = value
        else:
            kind, message = error if isinstance(error, tuple) else ("exception", error)
            tid = study._storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
            study._storage.set_trial_user_attr(tid, "error", message)
            study.tell(number, state=optuna.trial.TrialState.FAIL)
            if kind == "worker-lost":
                study.enqueue_trial(params)  # re-queued, not lost
    for number, key in twins:
        if key in outs:
            ev.tell(study, number, outs[key], memo_of=first_of[key])
        else:
            study.tell(number, state=optuna.trial.TrialState.FAIL)


class _Bar:
    def __init__(self, enabled: bool, total: int | None, name: str):
        self.bar = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self.bar = Progress(
                "[bold]{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
            )
            self.bar.start()
            self.task = self.bar.add_task(f"optimising {name}", total=total)

    def update(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
