"""``cube pack``: one folder that sets up a room of laptops offline.

The folder holds, for each platform asked for, every wheel the locked environment installs
(chosen from ``uv.lock``, downloaded once, hash-checked), uv itself, cube's own wheel, the
course (learners' notebooks and their solutions, handouts run at full size, the guides), the
course's warmed cache as one archive, the start scripts, and a ``MANIFEST`` of every file's
SHA-256. It is written beside its final name and renamed into place: whole or not at all.
"""

from __future__ import annotations

import json
import os
import platform as _platform
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cube import _cache
from cube._errors import CubeError, InputError
from cube._progress import human_bytes
from cube._version import __version__
from cube.workshop import _scripts
from cube.workshop._download import fetch_all, place
from cube.workshop._lock import (
    Platform,
    PlatformSelection,
    WheelFile,
    best_wheel,
    exported_requirements,
    find_uv,
    parse_platforms,
    select_wheels,
)

PACK_JSON = "pack.json"
CACHE_ARCHIVE = "cache/cube-cache.tar"


def default_project() -> Path:
    """The cube checkout this module runs from (where ``uv.lock`` is), else the current folder."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "uv.lock").is_file() else Path.cwd()


def download_store() -> Path:
    """Where downloaded wheels are kept between packs (beside the cache, not in it)."""
    return _cache.root().parent / "cube-pack-downloads"


def course_cache_dir() -> Path:
    """The cache the course is rendered into for a pack: the course's entries and nothing of
    the instructor's own analyses."""
    return _cache.root().parent / "cube-pack-cache"


@dataclass
class PackReport:
    """What :func:`build_pack` wrote, with sizes per platform and seconds per step."""

    path: Path
    platforms: dict[str, dict] = field(default_factory=dict)
    total_bytes: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = []
        for name, info in self.platforms.items():
            extra = f"; built on the laptop: {', '.join(info['sdists'])}" if info["sdists"] else ""
            out.append(
                f"{name}: {info['packages']} packages, {human_bytes(info['install_bytes'])} to "
                f"install{extra}"
            )
        out.append(f"the pack: {human_bytes(self.total_bytes)} in {self.path}")
        return out


def _uv_version() -> str:
    done = subprocess.run([*find_uv(), "--version"], capture_output=True, text=True)
    try:
        return done.stdout.split()[1]
    except IndexError:
        raise CubeError(f"cannot read uv's version ({done.stderr.strip()})") from None


def _uv_wheels(version: str) -> list[WheelFile]:
    """uv's own wheels on PyPI (they carry the uv binary for each platform)."""
    url = "https://pypi.org/pypi/uv/json"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            files = json.load(response)["releases"][version]
    except KeyError:
        raise CubeError(f"PyPI has no uv {version}; install a released uv") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise CubeError(f"cannot read {url} ({getattr(exc, 'reason', exc)})") from exc
    return [
        WheelFile(
            item["filename"],
            urllib.parse.urljoin(url, item["url"]),
            item["digests"]["sha256"],
            item.get("size"),
        )
        for item in files
        if item["filename"].endswith(".whl")
    ]


def _extract_uv(wheel: Path, target_dir: Path) -> Path:
    with zipfile.ZipFile(wheel) as archive:
        names = [
            n
            for n in archive.namelist()
            if "/scripts/" in n and Path(n).name in ("uv", "uv.exe", "uvx", "uvx.exe")
        ]
        if not names:
            raise CubeError(f"{wheel.name} holds no uv binary")
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in names:
            target = target_dir / Path(name).name
            target.write_bytes(archive.read(name))
            target.chmod(0o755)
    return target_dir


def _build_cube_wheel(project: Path, wheels: Path) -> Path:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:  # uv build leaves a .gitignore beside the wheel
        done = subprocess.run(
            [*find_uv(), "build", "--wheel", "--out-dir", tmp, str(project)],
            capture_output=True,
            text=True,
        )
        built = sorted(Path(tmp).glob("cube-*.whl"))
        if done.returncode != 0 or not built:
            last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
            raise CubeError(f"cannot build cube's wheel: {last}")
        wheels.mkdir(parents=True, exist_ok=True)
        return Path(shutil.move(built[-1], wheels / built[-1].name))


def _render_course(course: Path, cache_dir: Path, quick: bool) -> None:
    """Learners' notebooks, full-size handouts, the instructor's solutions, all run into the
    course cache (each notebook in a fresh kernel, as ``cube render`` runs it)."""
    from cube._config import config_context
    from cube.notebook import prepare_workdir, render, workshop_notebooks

    prepare_workdir(course / "notebooks")
    previous = os.environ.get("CUBE_CACHE_DIR")
    os.environ["CUBE_CACHE_DIR"] = str(cache_dir)  # the kernels read it from here
    try:
        with config_context(cache_dir=cache_dir):
            # The instructor's run first: it runs every solution too, so the cache holds what
            # learners' exercises need. The handouts keep their executed notebooks, the
            # reference a learner's run is compared with.
            for solutions, folder, formats in (
                (True, "instructor", ("html",)),
                (False, "handouts", ("html", "ipynb")),
            ):
                _, failures = render(
                    workshop_notebooks(),
                    course / folder,
                    formats=formats,
                    quick=quick or None,
                    solutions=solutions,
                    verbose=True,
                )
                if failures:
                    raise CubeError(f"the course did not run: {failures[0]}")
    finally:
        if previous is None:
            os.environ.pop("CUBE_CACHE_DIR", None)
        else:
            os.environ["CUBE_CACHE_DIR"] = previous


def _copy_docs(project: Path, course: Path) -> None:
    # Every page of the course (setup, schedule, troubleshooting, ...), not quality.md's bench.
    for source in sorted((project / "docs").glob("*.md")):
        if source.name != "quality.md":  # a copy: a hard link would change with the checkout
            (course / "docs").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, course / "docs" / source.name)


def _check_target(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file; give a folder name for the pack")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(
            f"{out} is not empty; choose a new folder or pass force=True to replace it"
        )
    if not out.parent.is_dir():
        raise InputError(f"cannot write the pack: folder {out.parent} does not exist")


def _check_space(out: Path, needed: int) -> None:
    free = shutil.disk_usage(out.parent).free
    if free < needed * 1.1:
        raise CubeError(
            f"the pack needs about {human_bytes(needed)} and {out.parent} has "
            f"{human_bytes(free)} free; free some space or pack fewer platforms="
        )


def build_pack(
    out: str | os.PathLike,
    *,
    platforms: str | list[str] | None = None,
    python: str = "3.11",
    project: str | os.PathLike | None = None,
    course: bool = True,
    quick: bool = False,
    cache_dir: str | os.PathLike | None = None,
    packages: set[str] | None = None,
    force: bool = False,
) -> PackReport:
    """Write a workshop pack to ``out`` (see the module's docstring).

    ``course=False`` leaves out the course and the cache it warms; ``cache_dir`` packs that
    cache instead (one you warmed for your own corpus). ``packages`` keeps only the wheels of
    those names (a small pack, as the tests make).

    Example:
        >>> build_pack("workshop-pack", platforms="linux-x86_64,windows-x86_64").lines()[-1]
        'the pack: 4.1 GB in workshop-pack'
    """
    started = time.perf_counter()
    target = Path(out)
    _check_target(target, force)
    chosen = parse_platforms(platforms)
    if cache_dir is not None and not Path(cache_dir).is_dir():
        raise InputError(f"no cache at {cache_dir}; give the folder CUBE_CACHE_DIR pointed to")
    project_dir = Path(project) if project else default_project()
    requirements = exported_requirements(project_dir)
    if packages is not None:
        requirements = [r for r in requirements if r.name in packages]
    selections = [select_wheels(project_dir, p, requirements, python) for p in chosen]
    uv_files = _uv_files(chosen)
    files = [f for s in selections for f in s.files] + list(uv_files.values())
    download_size = sum(f.size or 0 for f in {f.filename: f for f in files}.values())
    _check_space(target, download_size * 2)  # the download store and the pack
    report = PackReport(path=target)

    staging = target.with_name(f".{target.name}.part")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        store = download_store()
        fetched = {p.name: p for p in fetch_all(files, store)}
        report.seconds["download"] = time.perf_counter() - started
        for selection in selections:
            for f in selection.files:
                place(fetched[f.filename], staging / "wheels" / f.filename)
            _write_requirements(staging, selection)
        for name, f in uv_files.items():
            _extract_uv(fetched[f.filename], staging / "uv" / name)
        cube_wheel = _build_cube_wheel(project_dir, staging / "wheels")
        if course:
            step = time.perf_counter()
            _render_course(staging / "course", Path(cache_dir or course_cache_dir()), quick)
            _copy_docs(project_dir, staging / "course")
            report.seconds["course"] = time.perf_counter() - step
        if course or cache_dir is not None:
            from cube._archive import export_cache
            from cube._config import config_context

            (staging / "cache").mkdir()
            with config_context(cache_dir=Path(cache_dir) if cache_dir else course_cache_dir()):
                export_cache(staging / CACHE_ARCHIVE)
        meta = _pack_meta(selections, cube_wheel, course or cache_dir is not None, python)
        (staging / PACK_JSON).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        _scripts.write(staging, meta)
        _write_manifests(staging, selections, uv_files, cube_wheel)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for selection in selections:
        report.platforms[selection.platform.name] = {
            "packages": len(selection.files) + 1,
            "install_bytes": selection.size + (target / "wheels" / cube_wheel.name).stat().st_size,
            "sdists": selection.sdists,
        }
    report.total_bytes = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    report.seconds["total"] = time.perf_counter() - started
    return report


def _uv_files(chosen: list[Platform]) -> dict[str, WheelFile]:
    wheels = _uv_wheels(_uv_version())
    picked = {}
    for p in chosen:
        wheel = best_wheel(wheels, p)
        if wheel is None:
            raise CubeError(f"PyPI has no uv wheel for {p.name}")
        picked[p.name] = wheel
    return picked


def _write_requirements(staging: Path, selection: PlatformSelection) -> None:
    lines = [r.line() for r in selection.requirements]
    path = staging / "requirements" / f"{selection.platform.name}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _pack_meta(selections, cube_wheel: Path, course: bool, python: str) -> dict:
    from cube.embeddings import choose_backend

    try:
        backend = choose_backend(None, _cache_model()).name if course else None
    except CubeError:
        backend = None
    return {
        "format": 1,
        "cube": __version__,
        "made": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "made_on": f"{_platform.system()} {_platform.machine()}, Python {sys.version.split()[0]}",
        "python": f">={python}",
        "python_note": (
            "learners need a Python of this version already installed: uv keeps no archive of "
            "the Pythons it installs, so there is none to copy into a pack"
        ),
        "backend": backend,
        "cube_wheel": cube_wheel.name,
        "cache": CACHE_ARCHIVE if course else None,
        "platforms": {
            s.platform.name: {
                "requirements": f"requirements/{s.platform.name}.txt",
                "uv": f"uv/{s.platform.name}",
                "bytes": s.size,
                "built_on_the_laptop": s.sdists,
            }
            for s in selections
        },
    }


def _cache_model():
    from cube._config import DEFAULT_MODEL
    from cube.embeddings import resolve_model

    return resolve_model(DEFAULT_MODEL, allow_download=False)


def _write_manifests(
    staging: Path,
    selections: list[PlatformSelection],
    uv_files: dict[str, WheelFile],
    cube_wheel: Path,
) -> None:
    """``MANIFEST`` (every file) and ``MANIFEST.<platform>`` (what that platform installs), in
    ``sha256sum`` format, so ``sha256sum -c`` and ``shasum -a 256 -c`` check them."""
    digests = {}
    for path in sorted(staging.rglob("*")):
        if path.is_file():
            rel = path.relative_to(staging).as_posix()
            digests[rel] = _cache.file_sha256(path)

    def write(name: str, paths) -> None:
        lines = [f"{digests[p]}  {p}" for p in sorted(paths)]
        (staging / name).write_text("\n".join(lines) + "\n", encoding="utf-8")

    common = [p for p in digests if not p.startswith(("wheels/", "uv/", "requirements/"))]
    for selection in selections:
        name = selection.platform.name
        write(
            f"MANIFEST.{name}",
            [
                *common,
                f"wheels/{cube_wheel.name}",
                f"requirements/{name}.txt",
                *(f"wheels/{f.filename}" for f in selection.files),
                *(p for p in digests if p.startswith(f"uv/{name}/")),
            ],
        )
    write("MANIFEST", digests)
