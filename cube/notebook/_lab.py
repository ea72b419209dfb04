"""``cube lab``: JupyterLab on the kit's notebooks, on localhost, with Jupyter's token."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from cube._errors import InputError
from cube.notebook._render import kit_notebooks_dir

DEFAULT_WORKDIR = Path("cube-notebooks")


def prepare_workdir(target: str | os.PathLike | None = None) -> tuple[Path, list[Path]]:
    """The folder JupyterLab opens, and the notebooks copied into it this time.

    In a writable checkout with no ``target``, that is the kit's ``notebooks/`` itself. When
    the notebooks are read-only (an installed package, the Nix store) or ``target`` is given,
    they are copied into ``target`` (default ``./cube-notebooks``) — each only if it is not
    there yet, so a learner's edited copy is never overwritten.

    Example:
        >>> prepare_workdir("my-notebooks")
        (PosixPath('my-notebooks'), [PosixPath('my-notebooks/01-texts-to-vectors.ipynb'), ...])
    """
    source = kit_notebooks_dir()
    if target is None and os.access(source, os.W_OK):
        return source, []
    workdir = Path(target).expanduser() if target is not None else DEFAULT_WORKDIR
    if workdir.exists() and not workdir.is_dir():
        raise InputError(f"{workdir} is a file; pass a folder for the notebooks")
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        copied = []
        for notebook in sorted(source.glob("*.ipynb")):
            destination = workdir / notebook.name
            if not destination.exists():
                shutil.copyfile(notebook, destination)  # contents only: the copy is writable
                copied.append(destination)
    except OSError as exc:
        raise InputError(f"cannot copy the notebooks into {workdir} ({exc.strerror})") from exc
    return workdir, copied


def lab_command(root: Path, *, port: int | None = None, open_browser: bool = True) -> list[str]:
    """The JupyterLab command line: localhost only; token authentication stays on."""
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
    ]
    if port:
        command.append(f"--ServerApp.port={port}")
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Containers and CI machines run as root; Jupyter refuses that unless asked. It stays
        # on 127.0.0.1 behind its token either way.
        command.append("--allow-root")
    return command


def lab_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["JUPYTER_PREFER_ENV_PATH"] = "1"  # this environment's kernels and extensions win
    if not env.get("JUPYTER_TOKEN", "x"):
        env.pop("JUPYTER_TOKEN")  # an empty token would switch authentication off
    return env


def launch(
    target: str | os.PathLike | None = None, *, port: int | None = None, open_browser: bool = True
) -> int:
    """Start JupyterLab on the notebooks (blocks until it stops); returns its exit code."""
    root, copied = prepare_workdir(target)
    if copied:
        print(f"copied {len(copied)} notebook(s) into {root} (your copies: edit freely)")
    print(f"JupyterLab on {root.resolve()}: http://127.0.0.1 only, with a login token")
    command = lab_command(root, port=port, open_browser=open_browser)
    if os.name == "posix":
        # Become JupyterLab: Ctrl-C and a terminating signal reach it directly, and no server
        # is left running behind a stopped `cube lab`.
        sys.stdout.flush()
        os.execve(command[0], command, lab_environment())
    try:
        return subprocess.call(command, env=lab_environment())
    except KeyboardInterrupt:
        return 130
