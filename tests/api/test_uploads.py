"""Upload checks on their own: file names, zip extraction bounds, YAML alias bombs."""

from __future__ import annotations

import zipfile

import pytest

from vfactory.api.uploads import UploadRejected, check_yaml_shape, extract_zip, safe_name


@pytest.mark.parametrize(
    "name,expected",
    [
        ("line.yaml", "line.yaml"),
        ("my line (v2).yaml", "my_line__v2_.yaml"),
        ("Messdaten_Ofen_ä.csv", "Messdaten_Ofen__.csv"),
        ("x" * 300 + ".csv", "x" * 124 + ".csv"),
    ],
)
def test_safe_name_keeps_a_safe_base_name(name, expected):
    assert safe_name(name) == expected


@pytest.mark.parametrize(
    "name,fragment",
    [
        ("", "no file name"),
        ("../etc/passwd", "contains a path"),
        ("a/b.csv", "contains a path"),
        ("..\\..\\boot.ini", "contains a path"),
        ("/etc/passwd", "absolute path"),
        ("C:\\x.csv", "absolute path"),
        (".env", "hidden"),
        ("..", "hidden"),
        ("a\x00b", "control characters"),
        ("a\nb.csv", "control characters"),
    ],
)
def test_safe_name_refuses_paths_and_odd_names(name, fragment):
    with pytest.raises(UploadRejected) as err:
        safe_name(name)
    assert fragment in err.value.message and err.value.status == 422


def _zip(tmp_path, entries, compression=zipfile.ZIP_DEFLATED):
    path = tmp_path / "a.zip"
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


LIMITS = dict(max_entries=10, max_total_bytes=100_000, max_ratio=50, max_depth=3)


def test_zip_extracts_folders(tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    names = extract_zip(_zip(tmp_path, {"data/a.csv": "1\n", "b.csv": "2\n"}), dest, **LIMITS)
    assert sorted(names) == ["b.csv", "data/a.csv"]
    assert (dest / "data" / "a.csv").read_text() == "1\n"


@pytest.mark.parametrize(
    "entries,fragment",
    [
        ({"a/b/c/d/e.csv": "1"}, "nested deeper than 3"),
        ({f"f{i}": "1" for i in range(11)}, "more than the limit of 10"),
        ({"big.csv": "0" * 200_000}, "expands to"),
        ({"z.csv": "0" * 50_000}, "zip bomb"),
        ({"../x.csv": "1"}, "climbs out"),
        ({"d/.hidden": "1"}, "hidden"),
    ],
)
def test_zip_limits(tmp_path, entries, fragment):
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(UploadRejected) as err:
        extract_zip(_zip(tmp_path, entries), dest, **LIMITS)
    assert fragment in err.value.message
    assert not any(p.is_file() for p in dest.rglob("*")) or fragment == "expands to"


def test_zip_header_that_lies_about_its_size_is_caught(tmp_path):
    """A stored entry whose header claims 10 bytes but holds 5000: the bound is enforced on the
    bytes actually read."""
    path = _zip(tmp_path, {"x.csv": "1" * 5000}, compression=zipfile.ZIP_STORED)
    raw = bytearray(path.read_bytes())
    # patch the uncompressed size in the local header (offset 22) and central directory
    raw[22:26] = (10).to_bytes(4, "little")
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24 : cd + 28] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(UploadRejected):
        extract_zip(path, dest, **LIMITS)
    assert sum(p.stat().st_size for p in dest.rglob("*") if p.is_file()) <= 10 + 65536


def test_yaml_alias_bomb_is_refused_before_building_anything():
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"l{i}: &l{i} [" + ", ".join([f"*{'a' if i == 0 else f'l{i - 1}'}"] * 10) + "]\n"
        for i in range(9)
    )
    with pytest.raises(UploadRejected) as err:
        check_yaml_shape(bomb, "bomb.yaml", max_nodes=200_000, max_depth=64)
    assert "bomb.yaml" in err.value.message
    # a few legitimate aliases pass
    check_yaml_shape(
        "d: &d {dist: exponential, mean: 2}\nx: *d\ny: *d\n",
        "ok.yaml",
        max_nodes=200_000,
        max_depth=64,
    )
