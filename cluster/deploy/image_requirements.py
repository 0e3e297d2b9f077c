"""Print vfactory's runtime requirements for a container image, one per line.

Used by the Dockerfile: the laptop pins ``numpy<2`` (Debian's dolfinx 0.5.2 needs it) and
``pyarrow<22`` (the last pyarrow accepting numpy 1.x); in an image whose dolfinx is built
against numpy 2 those upper bounds are dropped and numpy is pinned to the image's own
version by a constraints file instead.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import tomllib

RELAXED = {"numpy", "pyarrow"}


def requirements(pyproject: Path) -> list[str]:
    deps = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    out = []
    for dep in deps:
        name = re.split(r"[\[<>=!~ ;]", dep, maxsplit=1)[0].lower()
        out.append(name if name in RELAXED else dep)
    return out


if __name__ == "__main__":
    print("\n".join(requirements(Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml"))))
