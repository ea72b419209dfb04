"""``cube lab``: JupyterLab on working copies of the kit's notebooks, on localhost, with a token."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from cube._errors import InputError
from cube.notebook._render import kit_notebooks_dir
from cube.notebook._solutions import SOLUTIONS_DIR, has_solutions, learner_bytes

DEFAULT_WORKDIR = Path("cube-notebooks")
BACKUP_SUFFIX = ".before-reset.ipynb"


def _workdir(target: str | os.PathLike | None) -> Path:
    workdir = Path(target).expanduser() if target is not None else DEFAULT_WORKDIR
    if workdir.exists() and not workdir.is_dir():
        raise InputError(f"{workdir} is a file; pass a folder for the notebooks")
    if workdir.resolve() == kit_notebooks_dir().resolve():
        raise InputError(
            f"{workdir} holds the course's own notebooks; pass another folder for your copies "
            f"(default ./{DEFAULT_WORKDIR})"
        )
    return workdir


def prepare_workdir(target: str | os.PathLike | None = None) -> tuple[Path, list[Path]]:
    """The folder JupyterLab opens, and the notebooks copied into it this time.

    Always a working copy, never the kit's own ``notebooks/``: a learner's Save must not write
    outputs into the course's files (in a git checkout, the instructor's next ``git pull``
    would conflict). The notebooks are copied into ``target`` (default ``./cube-notebooks``),
    each only if it is not there yet, so a learner's edited copy is never overwritten;
    :func:`reset_notebook` brings one back to the original.

    Example:
        >>> prepare_workdir("my-notebooks")
        (PosixPath('my-notebooks'), [PosixPath('my-notebooks/00-what-topic-modeling-gives-you.ipynb'), ...])
    """
    source = kit_notebooks_dir()
    workdir = _workdir(target)
    try:
        workdir.mkdir(parents=True, exist_ok=True)
        copied = []
        for notebook in sorted(source.glob("*.ipynb")):
            destination = workdir / notebook.name
            if not destination.exists():
                # The learner's version: no solution cells, so "Run All" runs none of them.
                destination.write_bytes(learner_bytes(notebook))
                copied.append(destination)
            solutions = workdir / SOLUTIONS_DIR / notebook.name
            if has_solutions(notebook) and not solutions.exists():
                solutions.parent.mkdir(exist_ok=True)
                shutil.copyfile(notebook, solutions)  # contents only: the copy is writable
    except OSError as exc:
        raise InputError(f"cannot copy the notebooks into {workdir} ({exc.strerror})") from exc
    return workdir, copied


def find_notebook(name: str) -> Path:
    """The kit's notebook that ``name`` means: its number (``03``, ``3``, ``02a``, ``2a``),
    stem or file name. A number shared by several episodes (``02`` of ``02a`` and ``02b``)
    is an error that lists them."""
    notebooks = sorted(kit_notebooks_dir().glob("[0-9]*.ipynb"))
    wanted = name.strip().removesuffix(".ipynb")
    matches = [p for p in notebooks if wanted in (p.stem, p.name)]
    number = re.fullmatch(r"(\d+)([a-z]?)", wanted.lower())
    if not matches and number:
        for p in notebooks:
            found = re.match(r"(\d+)([a-z]?)(?:-|$)", p.stem.lower())
            if found and int(found[1]) == int(number[1]) and number[2] in ("", found[2]):
                matches.append(p)
    if not matches and wanted:
        matches = [p for p in notebooks if p.stem.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    listed = ", ".join(p.stem for p in (matches or notebooks))
    if matches:
        raise InputError(f"{name!r} could mean several notebooks: {listed}; give more of its name")
    raise InputError(f"no notebook {name!r}; the notebooks are: {listed}")


def reset_notebook(name: str, target: str | os.PathLike | None = None) -> str:
    """Put the original of one notebook back into the working folder; returns what it did.

    A learner's changed copy is not lost: it is renamed to ``<name>.before-reset.ipynb``
    (replacing an older one) before the original is copied in.

    Example:
        >>> print(reset_notebook("03"))
        reset cube-notebooks/03-explore-interactively.ipynb to the original; ...
    """
    original = find_notebook(name)
    workdir = _workdir(target)
    copy = workdir / original.name
    try:
        fresh = learner_bytes(original)
        if not copy.exists():
            workdir.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(fresh)
            return f"copied the original {original.name} into {workdir}"
        if copy.read_bytes() == fresh:
            return f"{copy} is already the original; nothing to do"
        backup = copy.with_name(original.stem + BACKUP_SUFFIX)
        os.replace(copy, backup)
        copy.write_bytes(fresh)
    except OSError as exc:
        raise InputError(f"cannot reset {copy} ({exc.strerror})") from exc
    return f"reset {copy} to the original; your version is now {backup.name}"


# A room on poor wifi (or none): JupyterLab neither fetches its news feed nor asks PyPI for
# updates, so no popup asks learners about them and nothing waits on the network.
QUIET_LAB_FLAGS = (
    "--LabApp.news_url=None",
    "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
)


def lab_command(root: Path, *, port: int | None = None, open_browser: bool = True) -> list[str]:
    """The JupyterLab command line: localhost only; token authentication stays on; no news or
    update checks."""
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.ip=127.0.0.1",
        *QUIET_LAB_FLAGS,
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


# JupyterLab 4 asks "Would you like to get notified about official Jupyter news?" in a toast
# on every page until someone answers (its `fetchNews` setting is "none", Ask). The news URL
# is off (QUIET_LAB_FLAGS), so the question asks about nothing: cube lab answers it. This
# folder is put first on JUPYTER_CONFIG_PATH for the server cube lab starts only; its
# labconfig/default_setting_overrides.json changes the settings' defaults, so nothing is
# written into the learner's own Jupyter settings and a choice they make there still wins.
LAB_CONFIG_DIR = Path(__file__).resolve().parent / "lab_config"
NEWS_SETTINGS_ID = "@jupyterlab/apputils-extension:notification"


def lab_environment() -> dict[str, str]:
    """The environment of the JupyterLab that ``cube lab`` starts.

    Example:
        >>> lab_environment()["JUPYTER_CONFIG_PATH"]
        '/.../cube/notebook/lab_config'
    """
    env = dict(os.environ)
    env["JUPYTER_PREFER_ENV_PATH"] = "1"  # this environment's kernels and extensions win
    # cube's setting defaults (no news question) first, then any path the user set.
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        p for p in (str(LAB_CONFIG_DIR), env.get("JUPYTER_CONFIG_PATH", "")) if p
    )
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
    print(
        f"JupyterLab on your copies in {root.resolve()}: http://127.0.0.1 only, with a login "
        "token (`cube lab --reset 03` brings back one original)"
    )
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
