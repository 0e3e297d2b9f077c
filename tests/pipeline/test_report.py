"""report.html: opened in headless Chromium it renders every section with its plots, loads nothing
from the network and logs no error; missing sections are left out; layout text is escaped."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from chromium import inspect_page

from vfactory.report import render_report, write_report

SECTIONS = ["recommendation", "baseline", "bottleneck", "states", "timeseries", "optimisation",
            "physics", "schedule", "tools"]


def _no_errors(page: dict) -> None:
    assert page["exceptions"] == []
    bad_console = [m for m in page["console"] if m["type"] in ("error", "warning", "assert")]
    assert bad_console == []
    assert [e for e in page["log"] if e.get("level") in ("error", "warning")] == []
    assert [u for u in page["requests"] if not u.startswith(("file:", "data:"))] == []
    assert page["failed_requests"] == []


def test_report_renders_in_chromium_with_every_plot(heat_run, tmp_path):
    report = heat_run.workdir / "report.html"
    assert report.is_file()
    shot = tmp_path / "report.png"
    page = inspect_page(report.as_uri(), shot)
    _no_errors(page)
    fig = page["figures"]
    name = heat_run.results["layout"]["name"]
    assert fig["h1"] == name and name in fig["title"]
    assert fig["sections"] == SECTIONS
    assert fig["scripts"] == 0
    # plots: WIP/throughput, history, 2 constraint trade-offs, importances, 2 temperature curves
    assert len(fig["imgs"]) >= 7
    for img in fig["imgs"]:
        assert img["complete"] and img["nw"] > 100 and img["nh"] > 100, img
        assert img["w"] > 100 and img["h"] > 100, img
    labels = [i["alt"] for i in fig["imgs"]]
    assert any("temperature of furnace" in a for a in labels)
    assert any("WIP" in a for a in labels)
    # inline SVG: station state bars and the Gantt chart, drawn with bars
    assert len(fig["svgs"]) >= 2
    for svg in fig["svgs"]:
        assert svg["w"] > 300 and svg["h"] > 100 and svg["rects"] > 8, svg
    # the screenshot is a real page, not a blank one
    from PIL import Image

    im = Image.open(shot).convert("L")
    assert im.width >= 900 and im.height > 3000
    lo, hi = im.getextrema()
    assert hi - lo > 200


def test_report_states_the_recommendation_and_the_ci(heat_run):
    html = (heat_run.workdir / "report.html").read_text()
    opt = heat_run.results["optimization"]
    assert "energy per good part" in html
    for p in opt["recommended"]["params"]:
        assert p in html
    assert "better, significant" in html
    assert "optuna-dashboard sqlite:///" in html and "vfactory dashboard study.db" in html
    assert 'href="fields/furnace.xdmf"' in html
    assert "File → Open" in html
    # self-contained: no external resources at all
    for needle in ("http://", "https://", "<script", "<link", "src=\"/", "url("):
        assert needle not in html.replace("http://www.w3.org/2000/svg", ""), needle


def test_missing_sections_are_left_out(heat_run, tmp_path):
    r = copy.deepcopy(heat_run.results)
    r["physics"] = r["optimization"] = r["schedule"] = None
    r["artifacts"] = {"files": []}
    path = write_report(r, tmp_path)
    page = inspect_page(path.as_uri())
    _no_errors(page)
    assert page["figures"]["sections"] == ["baseline", "bottleneck", "states", "timeseries"]
    assert len(page["figures"]["imgs"]) == 1 and len(page["figures"]["svgs"]) == 1
    # the bare minimum: a layout and nothing run
    bare = {"schema": r["schema"], "layout": {"name": "empty"}, "baseline": None}
    assert "<h1>empty</h1>" in render_report(bare)


def test_layout_text_is_escaped(heat_run, tmp_path):
    evil = '<script>console.error("pwned")</script><img src=x onerror="console.error(1)">'
    r = copy.deepcopy(heat_run.results)
    r["layout"]["name"] = evil
    r["layout"]["stations"] = [evil + s for s in r["layout"]["stations"]]
    kpis = r["baseline"]["kpis"]
    for k in list(kpis):
        if k.startswith("stations."):
            _, s, rest = k.split(".", 2)
            kpis[f"stations.{evil}{s}.{rest}"] = kpis.pop(k)
    r["optimization"]["recommended"]["params"][evil] = 1
    path = write_report(r, tmp_path)
    text = path.read_text()
    assert "<script" not in text and "<img src=x" not in text
    page = inspect_page(path.as_uri())
    _no_errors(page)
    assert page["figures"]["scripts"] == 0
    assert page["figures"]["h1"] == evil  # shown as text, verbatim
    assert json.dumps(evil)[1:-1] not in [m["text"] for m in page["console"]]


def test_report_is_written_beside_results(heat_run):
    assert (heat_run.workdir / "report.html").stat().st_size > 50_000  # inline images
    assert Path(heat_run.workdir / "results.json").is_file()


def test_the_browser_check_catches_errors(tmp_path):
    """Control: the same check flags a page that logs an error, throws and loads from the net."""
    page = tmp_path / "broken.html"
    page.write_text(
        "<!doctype html><html><head><title>broken</title></head><body><h1>broken</h1>"
        "<script>console.error('boom'); undefined_function();</script>"
        "<img src='https://example.invalid/x.png' alt='remote'></body></html>"
    )
    seen = inspect_page(page.as_uri())
    assert [m["text"] for m in seen["console"] if m["type"] == "error"] == ["boom"]
    assert len(seen["exceptions"]) == 1
    assert any(u.startswith("https://example.invalid") for u in seen["requests"])
    assert seen["failed_requests"]
    assert seen["figures"]["scripts"] == 1


CELL = """
factory: {name: lathe-cell, time_unit: min, run_length: 4320, warmup: 480, replications: 4, seed: 3}
products:
  shaft:
    route: [turning, furnace]
    arrival: {interarrival: {dist: exponential, mean: 4}}
stations:
  turning:
    servers: 2
    process_time: {dist: lognormal, mean: 6.5, cv: 0.3}
    power_kw: {idle: 3, working: 20}
  furnace:
    buffer: 80
    batch_size: 30
    process_time: {dist: normal, mean: 90, cv: 0.03}
    power_kw: {idle: 40, working: 100}
study:
  variables:
    stations.furnace.batch_size: {low: 20, high: 60, step: 5, type: int}
  objectives:
    - {kpi: lead_time.mean, direction: minimize}
    - {kpi: energy_per_good_part_kwh, direction: minimize}
  constraints: [{kpi: throughput_per_hour, min: 14}]
  budget: {trials: 9}
  replications: 3
  recheck_replications: 5
  initial_design: {kind: sobol, n: 4}
"""


def test_two_objectives_give_a_pareto_plot_and_no_physics_section(tmp_path):
    from vfactory import pipeline

    (tmp_path / "cell.yaml").write_text(CELL)
    results = pipeline.run(tmp_path / "cell.yaml", tmp_path / "out")
    assert results["physics"] is None and results["schedule"] is None
    assert len(results["optimization"]["pareto_front"]) >= 2
    page = inspect_page((tmp_path / "out" / "report.html").as_uri())
    _no_errors(page)
    fig = page["figures"]
    assert fig["sections"] == ["recommendation", "baseline", "bottleneck", "states",
                               "timeseries", "optimisation", "tools"]
    alts = [i["alt"] for i in fig["imgs"]]
    assert "Pareto front" in alts
    assert sum(a.startswith("optimisation history") for a in alts) == 2
    assert all(i["nw"] > 100 and i["h"] > 100 for i in fig["imgs"])
