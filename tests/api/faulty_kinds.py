"""Test-only job kinds (registered in the test service through VFACTORY_KINDS): failure injection
for what the real kinds must never do, e.g. crash their process."""

import os
import signal


def crash(job_dir, layout_path, options, progress):
    progress("about to crash", 10.0)
    os.kill(os.getpid(), signal.SIGSEGV)


def endless(job_dir, layout_path, options, progress):
    """A job that never ends on its own (an endless sweep): one line of partial results and one
    progress step every 0.1 s, so a stopped job has files and progress to keep."""
    import itertools
    import time

    with open(job_dir / "partial.csv", "w", buffering=1) as out:
        out.write("step\n")
        for step in itertools.count():
            out.write(f"{step}\n")
            progress(f"step {step}", min(99.0, step / 10))
            time.sleep(0.1)
