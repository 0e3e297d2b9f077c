"""Readers of the JSP (OR-Library) and FJSP (FJSPLIB, SchedulingLab) formats."""

from __future__ import annotations

import pytest

from vfactory.schedule.instances import detect_format, read_fjsp, read_instance, read_jsp
from vfactory.schedule.problem import ProblemError

# (file, format, jobs, machines, operations); sizes from the instance README / the papers
SIZES = [
    ("ft06.txt", "jsp", 6, 6, 36),
    ("ft10.txt", "jsp", 10, 10, 100),
    ("la01.txt", "jsp", 10, 5, 50),
    ("la02.txt", "jsp", 10, 5, 50),
    ("la05.txt", "jsp", 10, 5, 50),
    ("mk01.txt", "fjsp", 10, 6, 55),
    ("BrandimarteMk1.fjs", "fjs", 10, 6, 55),
]


@pytest.mark.parametrize(("name", "fmt", "n", "m", "ops"), SIZES)
def test_every_instance_reads_with_published_size(jsp_dir, name, fmt, n, m, ops):
    path = jsp_dir / name
    assert detect_format(path) == fmt
    pb = read_instance(path)
    assert len(pb.jobs) == n
    assert len(pb.machines) == m
    assert pb.n_operations == ops
    if fmt == "jsp":
        # classic job shop: every job visits every machine exactly once
        for job in pb.jobs:
            assert sorted(op.machines[0] for op in job.operations) == sorted(pb.machines)


def test_ft06_durations_sum_to_197(load):
    pb = load("ft06.txt")
    assert sum(op.alternatives[0][1] for j in pb.jobs for op in j.operations) == 197
    # first job of ft06: machine 2 for 1, machine 0 for 3 (Fisher & Thompson's table, 0-based)
    assert pb.jobs[0].operations[0].alternatives == (("M2", 1.0),)
    assert pb.jobs[0].operations[1].alternatives == (("M0", 3.0),)


def test_mk01_equals_fjslib_file_with_machines_minus_one(jsp_dir):
    a = read_instance(jsp_dir / "mk01.txt")
    b = read_instance(jsp_dir / "BrandimarteMk1.fjs")
    assert a.jobs == b.jobs and a.machines == b.machines
    # and on the raw numbers: the .fjs uses machines 1..6, mk01.txt 0..5
    raw_b = [int(x) for x in (jsp_dir / "BrandimarteMk1.fjs").read_text().split()[3:]]
    raw_a = [int(x) for x in (jsp_dir / "mk01.txt").read_text().split()[2:]]
    assert len(raw_a) == len(raw_b)
    assert max(raw_a) >= 0 and min(x for x in raw_b) >= 1
    # walk the .fjs: n_ops, then k pairs; machine ids must differ by exactly one
    i = 0
    for _ in range(10):
        n_ops = raw_b[i]
        assert raw_a[i] == n_ops
        i += 1
        for _ in range(n_ops):
            k = raw_b[i]
            assert raw_a[i] == k
            i += 1
            for _ in range(k):
                assert raw_a[i] == raw_b[i] - 1  # machine
                assert raw_a[i + 1] == raw_b[i + 1]  # duration
                i += 2
    assert i == len(raw_b)


def test_mk01_operation_counts(load):
    pb = load("mk01.txt")
    assert [len(j.operations) for j in pb.jobs] == [6, 5, 5, 5, 6, 6, 5, 5, 6, 6]
    assert pb.is_flexible
    # first operation of job 0: machines 0 (5) or 2 (4)  (mk01.txt line 2: "2 0 5 2 4")
    assert pb.jobs[0].operations[0].alternatives == (("M0", 5.0), ("M2", 4.0))


def test_bad_instance_files_name_file_and_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("2 2\n0 3 1 x\n1 2 0 4\n")
    with pytest.raises(ProblemError, match=r"bad\.txt:2: expected an integer, found 'x'"):
        read_jsp(p)
    p.write_text("2 2\n0 3 5 4\n1 2 0 4\n")
    with pytest.raises(ProblemError, match=r"bad\.txt:2: machine 5 outside 0..1"):
        read_jsp(p)
    p.write_text("3 2\n0 3 1 4\n1 2 0 4\n")
    with pytest.raises(ProblemError, match="header says 3 jobs, found 2"):
        read_jsp(p)
    f = tmp_path / "bad.fjs"
    f.write_text("1 2 1\n2 1 1 3 1 0 4\n")  # machine 0 in a 1-based file
    with pytest.raises(ProblemError, match=r"bad\.fjs:2: machine 0 outside 1..2"):
        read_fjsp(f)
    f.write_text("1 2 1\n2 1 1 3 1\n")
    with pytest.raises(ProblemError, match=r"bad\.fjs:2: line ends early"):
        read_fjsp(f)
