"""Run vfactory work on a SLURM cluster through dask-jobqueue (an example to adapt).

    pip install dask-jobqueue          # on the login node, in vfactory's environment
    python cluster/deploy/slurm_dask.py --jobs 4 --cores 32 --partition compute

Each SLURM job runs ``--cores`` single-threaded Dask worker processes; the script runs
the cluster smoke check and then keeps the scheduler up for ``--hold`` minutes, printing its
address so that other commands can use it: ``VFACTORY_CLUSTER=tcp://ADDR vfactory ...``.
Workers use the same Python environment as the login node (shared filesystem), so
FEniCSx and vfactory need no container. Adjust the account, partition, memory and walltime.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="SLURM jobs (nodes) to request")
    parser.add_argument("--cores", type=int, default=32, help="cores per job = workers per job")
    parser.add_argument("--memory", default="64GB", help="memory per job")
    parser.add_argument("--partition", default="compute")
    parser.add_argument("--account", default=None)
    parser.add_argument("--walltime", default="02:00:00")
    parser.add_argument("--hold", type=float, default=0.0, help="minutes to keep it up")
    args = parser.parse_args()

    from dask_jobqueue import SLURMCluster

    from cluster.dask_backend import DaskExecutor
    from cluster.probe import check

    cluster = SLURMCluster(
        cores=args.cores,
        processes=args.cores,  # one single-threaded worker process per core
        memory=args.memory,
        queue=args.partition,
        account=args.account,
        walltime=args.walltime,
        job_script_prologue=[
            "export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1",
        ],
        # Recycle workers before the walltime ends, so running tasks move elsewhere.
        worker_extra_args=["--lifetime", "55m", "--lifetime-stagger", "4m"],
    )
    cluster.scale(jobs=args.jobs)
    print(cluster.job_script())
    print(f"scheduler: {cluster.scheduler_address}")
    try:
        with DaskExecutor(cluster.scheduler_address) as ex:
            ex.client.wait_for_workers(1, timeout=600)
        status = check(cluster.scheduler_address)
        if status == 0 and args.hold > 0:
            print(f"VFACTORY_CLUSTER={cluster.scheduler_address}  (up for {args.hold} min)")
            time.sleep(args.hold * 60)
    finally:
        cluster.close()
    raise SystemExit(status)


if __name__ == "__main__":
    main()
