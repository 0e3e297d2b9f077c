"""Deployment files: they parse, Ray's own validator accepts the `ray up` config, and the
manifests, image recipe and README agree with each other and with the installed engines.
(No docker engine or Kubernetes here: the files are checked, not run.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

import cluster

DEPLOY = Path(cluster.__file__).parent / "deploy"
REPO = DEPLOY.parents[1]
IMAGE = "registry.example.com/vfactory-worker:0.1.0"


def _yaml(name: str) -> dict:
    return yaml.safe_load((DEPLOY / name).read_text())


def _images(obj) -> list[str]:
    if isinstance(obj, dict):
        found = [obj["image"]] if isinstance(obj.get("image"), str) else []
        return found + [i for v in obj.values() for i in _images(v)]
    if isinstance(obj, list):
        return [i for v in obj for i in _images(v)]
    return []


def test_ray_up_config_passes_rays_schema_validation():
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = prepare_config(_yaml("ray-cluster.yaml"))
    validate_config(config)  # raises on any schema violation
    assert config["provider"]["type"] == "local"
    assert config["max_workers"] == len(config["provider"]["worker_ips"])
    assert config["docker"]["image"] == IMAGE
    head = " ".join(config["head_start_ray_commands"])
    assert "--ray-client-server-port=10001" in head  # what ray://HOST:10001 connects to


def test_ray_schema_validation_is_not_vacuous():
    from ray.autoscaler._private.util import prepare_config, validate_config

    config = _yaml("ray-cluster.yaml")
    config["head_start_commands"] = ["ray start --head"]  # a typo of a real key
    with pytest.raises(Exception, match="head_start_commands"):
        validate_config(prepare_config(config))


def test_kuberay_manifest():
    import ray

    doc = _yaml("kuberay-raycluster.yaml")
    assert (doc["apiVersion"], doc["kind"]) == ("ray.io/v1", "RayCluster")
    spec = doc["spec"]
    assert spec["rayVersion"] == ray.__version__  # driver and cluster must match
    head = spec["headGroupSpec"]["template"]["spec"]["containers"][0]
    assert {p["containerPort"] for p in head["ports"]} >= {6379, 10001}
    group = spec["workerGroupSpecs"][0]
    assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
    assert set(_images(doc)) == {IMAGE}


def test_dask_operator_manifest():
    doc = _yaml("dask-operator-cluster.yaml")
    assert (doc["apiVersion"], doc["kind"]) == ("kubernetes.dask.org/v1", "DaskCluster")
    worker = doc["spec"]["worker"]["spec"]["containers"][0]
    args = worker["args"]
    assert args[:2] == ["dask", "worker"]
    assert args[args.index("--nthreads") + 1] == "1"
    sched = doc["spec"]["scheduler"]
    assert sched["spec"]["containers"][0]["args"] == ["dask", "scheduler"]
    assert 8786 in {p["port"] for p in sched["service"]["ports"]}
    assert set(_images(doc)) == {IMAGE}


def test_slurm_example_is_valid_python_using_jobqueue_and_the_executor():
    tree = ast.parse((DEPLOY / "slurm_dask.py").read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
    assert {"SLURMCluster", "DaskExecutor", "check"} <= imported
    assert "SLURMCluster" in names


def test_dockerfile_builds_on_fenicsx_and_copies_existing_paths():
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^ARG DOLFINX_IMAGE=dolfinx/dolfinx:stable$", text, re.M)
    assert re.search(r"^FROM \$\{DOLFINX_IMAGE\}$", text, re.M)
    for src in re.findall(r"^COPY (.+?) \S+$", text, re.M):
        for path in src.split():
            assert (REPO / path).exists(), f"Dockerfile copies missing {path}"
    import distributed
    import ray

    assert f"ARG RAY_VERSION={ray.__version__}" in text
    assert f"ARG DASK_VERSION={distributed.__version__}" in text


def test_image_requirements_relax_only_the_laptop_pins():
    import sys

    sys.path.insert(0, str(DEPLOY))
    try:
        from image_requirements import requirements
    finally:
        sys.path.remove(str(DEPLOY))
    reqs = requirements(REPO / "pyproject.toml")
    assert "numpy" in reqs and "pyarrow" in reqs  # bounds dropped: the image pins numpy
    assert any(r.startswith("scipy>=") for r in reqs)
    assert not any(r.startswith(("numpy<", "numpy>", "pyarrow<", "pyarrow>")) for r in reqs)


def test_readme_covers_every_deployment_file_and_spec():
    readme = (DEPLOY / "README.md").read_text()
    assert readme.startswith("# From laptop to cluster")
    for path in DEPLOY.iterdir():
        if path.name not in ("README.md", "__pycache__", "image_requirements.py"):
            assert f"`{path.name}`" in readme, f"README does not mention {path.name}"
    for spec in ("`local`", "`ray:auto`", "`ray://HOST:10001`", "`tcp://HOST:8786`"):
        assert spec in readme
