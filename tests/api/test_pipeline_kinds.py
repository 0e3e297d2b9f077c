"""The pipeline's job kinds through the real service: physics (FEniCSx fields for ParaView) and
calibrate (a real shop-floor log in, a layout that validates out)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from vfactory import layout

from .helpers import submit, wait_state

ROOT = Path(__file__).resolve().parents[2]
REAL_LINES = Path(os.environ.get("VFACTORY_REAL_LINES_DIR", ROOT.parent / "shared" / "real_lines"))

PLATE = """
factory: {name: furnace-plate, time_unit: min, run_length: 1000}
parameters: {furnace_c: 850}
physics:
  plate:
    solver: heat_treatment
    params:
      geometry: {kind: plate, thickness_m: 0.05}
      material: {k_w_mk: 40, rho_kg_m3: 7800, c_j_kgk: 500}
      initial_temperature_c: 20
      ambient_c: "=furnace_c"
      setpoint_c: 840
      soak_delta_c: 10
      h_w_m2k: 100
bindings:
  stations.furnace.process_time.value: "time(plate.soak_start_s)"
products: {part: {route: [furnace], arrival: saturated}}
stations:
  furnace: {process_time: 60}
"""


@pytest.fixture(scope="module")
def acme(sqlite_service):
    return sqlite_service.token("acme-pipeline")


def test_physics_job_returns_solves_and_fields(sqlite_service, acme):
    with sqlite_service.client(acme) as http:
        r = submit(http, layout=PLATE, kind="physics")
        assert r.status_code == 201, r.text
        st = wait_state(http, r.json()["id"], timeout=300)
        assert st["state"] == "COMPLETE", st
        res = http.get(f"/v1/jobs/{r.json()['id']}/results").json()
        # VALIDATION.md: a 50 mm plate (h = 100) reaches 830 °C at its centre after 3719 s (Heisler)
        soak = res["physics"]["solves"]["plate"]["outputs"]["soak_start_s"]
        assert abs(soak - 3719) / 3719 < 0.01
        bound = res["physics"]["bindings"]["stations.furnace.process_time.value"]
        assert abs(bound["value"] - soak / 60) < 1e-9 and bound["unit"] == "min"
        names = {a["name"] for a in http.get(f"/v1/jobs/{r.json()['id']}/artifacts").json()["artifacts"]}
        assert any(n.endswith("plate.xdmf") for n in names), names
        # paths are relative to the job's artifacts (SCHEMA.md "Paths"): usable once downloaded,
        # and no path of the server is shown to the tenant
        assert res["physics"]["solves"]["plate"]["xdmf"] == "fields/plate.xdmf"
        assert "fields/plate.xdmf" in names
        assert str(sqlite_service.data_dir) not in json.dumps(res)


def test_calibrate_job_turns_a_real_log_into_a_layout(sqlite_service, acme):
    mapping = (ROOT / "examples/real_lines/dascen_mapping.yaml").read_text()
    log = (REAL_LINES / "dascen_lf_scenario_03_data_raw.csv").read_bytes()
    with sqlite_service.client(acme) as http:
        r = submit(
            http, layout=mapping, name="mapping.yaml", kind="calibrate",
            attachments=[("scenario03.csv", log)], options=json.dumps({"log": "scenario03.csv"}),
        )
        assert r.status_code == 201, r.text
        st = wait_state(http, r.json()["id"], timeout=300)
        assert st["state"] == "COMPLETE", st
        body = http.get(f"/v1/jobs/{r.json()['id']}/artifacts/layout.yaml")
        assert body.status_code == 200
        f = layout.loads(body.text, "layout.yaml")
        # scenario 03: a 5-station line WS-01 … WS-05 (README of the data)
        assert [s for s in f.stations if s.startswith("WS-")] == [f"WS-0{i}" for i in range(1, 6)]
        # a mapping that is not a mapping is refused at submit, before anything runs
        bad = submit(http, layout=yaml.safe_dump({"columns": {"case": 5}}), name="m.yaml", kind="calibrate",
                     attachments=[("x.csv", b"a,b\n")], options=json.dumps({"log": "x.csv"}))
        assert bad.status_code == 422 and "mapping" in bad.text
