"""Test-only job kinds (registered in the test service through VFACTORY_KINDS): failure injection
for what the real kinds must never do, e.g. crash their process."""

import os
import signal


def crash(job_dir, layout_path, options, progress):
    progress("about to crash", 10.0)
    os.kill(os.getpid(), signal.SIGSEGV)
