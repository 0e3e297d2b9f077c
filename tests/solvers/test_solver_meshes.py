"""User meshes through meshio: NAFEMS T4 from a Gmsh/VTK/XDMF file, and clear errors on bad files."""

from __future__ import annotations

from pathlib import Path

import meshio
import numpy as np
import pytest

from solvers import elasticity, heat_conduction, heat_treatment
from solvers.mesh import MeshError, load

T4_BC = {"type": "convection", "h_w_m2k": 750.0, "ambient_c": 0.0}


def rectangle_mesh(
    w: float,
    h: float,
    nx: int,
    ny: int,
    quads_in_corner: bool = False,
    tag_boundaries: bool = True,
    three_d: bool = False,
) -> meshio.Mesh:
    """Structured triangles on [0,w]x[0,h] with boundary lines tagged 1..4 (bottom,left,right,top)."""
    xs, ys = np.linspace(0, w, nx + 1), np.linspace(0, h, ny + 1)
    X, Y = np.meshgrid(xs, ys)
    pts = np.column_stack([X.ravel(), Y.ravel(), np.zeros(X.size)])
    vid = lambda i, j: j * (nx + 1) + i  # noqa: E731
    tris, quads = [], []
    for j in range(ny):
        for i in range(nx):
            a, b, c, d = vid(i, j), vid(i + 1, j), vid(i + 1, j + 1), vid(i, j + 1)
            if quads_in_corner and i == 0 and j == 0:
                quads.append([a, b, c, d])
            else:
                tris += [[a, b, c], [a, c, d]]
    lines, tags = [], []
    for i in range(nx):
        lines += [[vid(i, 0), vid(i + 1, 0)], [vid(i, ny), vid(i + 1, ny)]]
        tags += [1, 4]
    for j in range(ny):
        lines += [[vid(0, j), vid(0, j + 1)], [vid(nx, j), vid(nx, j + 1)]]
        tags += [2, 3]
    cells = [("triangle", np.array(tris))]
    if quads:
        cells.append(("quad", np.array(quads)))
    cell_data = {}
    field_data = {}
    if tag_boundaries:
        cells.append(("line", np.array(lines)))
        zeros = [np.zeros(len(c[1]), dtype=int) for c in cells[:-1]]
        cell_data = {
            "gmsh:physical": zeros + [np.array(tags)],
            "gmsh:geometrical": zeros + [np.array(tags)],
        }
        field_data = {
            "bottom": np.array([1, 1]),
            "left": np.array([2, 1]),
            "right": np.array([3, 1]),
            "top": np.array([4, 1]),
        }
    if three_d:
        pts[:, 2] = 0.1 * pts[:, 0]  # tilted out of the z = 0 plane
    return meshio.Mesh(pts, cells, cell_data=cell_data, field_data=field_data)


def t4_params(path: Path, unit: str, names: dict[str, str]) -> dict:
    return {
        "geometry": {"kind": "mesh", "file": str(path), "unit": unit},
        "material": {"k_w_mk": 52.0, "c_j_kgk": 1.0, "rho_kg_m3": 1.0},
        "steady": True,
        "boundaries": {
            names["bottom"]: {"type": "temperature", "temperature_c": 100.0},
            names["right"]: T4_BC,
            names["top"]: T4_BC,
        },
        "probes": {"a": [600.0, 200.0] if unit == "mm" else [0.6, 0.2]},
    }


def test_t4_from_gmsh_file_in_millimetres(tmp_path):
    path = tmp_path / "t4.msh"
    meshio.write(path, rectangle_mesh(600.0, 1000.0, 24, 40), file_format="gmsh22", binary=False)
    r = heat_conduction.solve(
        t4_params(path, "mm", {"bottom": "bottom", "right": "right", "top": "top"})
    )
    assert r["probe_a_c"] == pytest.approx(18.25, rel=0.01)


@pytest.mark.parametrize("suffix", [".vtu", ".xdmf"])
def test_t4_from_vtk_and_xdmf_with_numeric_tags(tmp_path, suffix):
    m = rectangle_mesh(0.6, 1.0, 24, 40)
    m.cell_data = {"tags": m.cell_data["gmsh:physical"]}
    m.field_data = {}
    path = tmp_path / f"t4{suffix}"
    meshio.write(path, m)
    r = heat_conduction.solve(t4_params(path, "m", {"bottom": "1", "right": "3", "top": "4"}))
    assert r["probe_a_c"] == pytest.approx(18.25, rel=0.01)


def _write(tmp_path: Path, mesh: meshio.Mesh, name: str = "part.msh") -> Path:
    path = tmp_path / name
    meshio.write(path, mesh, file_format="gmsh22", binary=False)
    return path


def test_mixed_cell_types_error_names_the_file(tmp_path):
    path = _write(tmp_path, rectangle_mesh(0.6, 1.0, 4, 4, quads_in_corner=True))
    with pytest.raises(MeshError, match=rf"{path}.*mixed cell types"):
        load(path, "m")


def test_unit_mismatch_error_names_the_file(tmp_path):
    path = _write(tmp_path, rectangle_mesh(600.0, 1000.0, 4, 4))  # millimetres
    with pytest.raises(MeshError, match=rf"{path}.*length unit.*'mm'"):
        load(path, "m")


def test_missing_tags_error_names_the_file(tmp_path):
    path = _write(tmp_path, rectangle_mesh(0.6, 1.0, 4, 4, tag_boundaries=False))
    with pytest.raises(MeshError, match=rf"{path}.*no tagged boundary facets"):
        load(path, "m")


def test_unknown_boundary_name_lists_the_available_ones(tmp_path):
    path = _write(tmp_path, rectangle_mesh(0.6, 1.0, 4, 4))
    params = t4_params(path, "m", {"bottom": "bottom", "right": "right", "top": "roof"})
    with pytest.raises(ValueError, match=rf"no boundary named 'roof' in {path}.*bottom, left"):
        heat_conduction.solve(params)


def test_wrong_dimension_error_names_the_file(tmp_path):
    path = _write(tmp_path, rectangle_mesh(0.6, 1.0, 4, 4))
    with pytest.raises(ValueError, match=rf"model '3d' needs a 3D mesh, {path} is 2D"):
        elasticity.solve(
            {
                "geometry": {"kind": "mesh", "file": str(path)},
                "material": "steel_c45",
                "model": "3d",
                "supports": [{"boundary": "left"}],
            }
        )
    with pytest.raises(MeshError, match=rf"{path}: the solver needs a 3D mesh"):
        load(path, "m", dim=3)
    tilted = _write(tmp_path, rectangle_mesh(0.6, 1.0, 4, 4, three_d=True), "tilted.msh")
    with pytest.raises(MeshError, match=rf"{tilted}: 2D cells embedded in 3D space"):
        load(tilted, "m")


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(MeshError, match=r"nope\.msh: mesh file not found"):
        load(tmp_path / "nope.msh")
    bad = tmp_path / "garbage.msh"
    bad.write_text("this is not a mesh\n")
    with pytest.raises(MeshError, match=rf"{bad}: cannot read mesh"):
        load(bad)


def test_heat_treatment_on_an_axisymmetric_user_mesh_is_the_long_bar(tmp_path):
    # r-z section of a 40 mm bar (r along x, mm), only the side (r = R) exchanges heat:
    # the 1D long-bar quench time 57.3 s must come out (VALIDATION.md).
    path = _write(tmp_path, rectangle_mesh(20.0, 50.0, 12, 4), "bar_rz.msh")
    r = heat_treatment.solve(
        {
            "geometry": {"kind": "mesh", "file": str(path), "unit": "mm", "axisymmetric": True},
            "material": "steel_textbook",
            "initial_temperature_c": 850.0,
            "ambient_c": 60.0,
            "h_w_m2k": 1000.0,
            "cool_below_c": 300.0,
            "surface_tags": ["right"],
            "core_point": [0.0, 25.0],
            "surface_point": [20.0, 25.0],
        }
    )
    assert r["cool_below_s"] == pytest.approx(57.3, rel=0.01)
    # Heat per part: 2π ∫ r dr dz of the section; bounded by the full drop 850 -> 300 C.
    volume = 3.141592653589793 * 0.02**2 * 0.05
    assert -7800 * 500 * volume * (850 - 60) < r["heat_absorbed_j"] < -7800 * 500 * volume * 100
