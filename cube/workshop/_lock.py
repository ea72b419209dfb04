"""What a laptop installs, read from ``uv.lock``: each platform's wheels, with their hashes.

``uv export`` turns the lock into requirement lines whose markers say where each package
belongs (uv propagates them through the dependency graph); :func:`select_wheels` evaluates
those markers for a platform and picks, among the wheels the lock lists for that package and
version, the best one for that platform's tags, exactly as an installer would.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cube._errors import CubeError, InputError


@dataclass(frozen=True)
class Platform:
    """A kind of learner laptop: how Python's markers see it, and the wheel tags it takes."""

    name: str
    sys_platform: str
    platform_system: str
    platform_machine: str
    os_name: str
    wheel_platforms: tuple[str, ...]  # most specific first, as pip and uv rank them

    def environment(self, python_full_version: str) -> dict[str, str]:
        """The values PEP 508 markers are evaluated against on this platform."""
        major_minor = ".".join(python_full_version.split(".")[:2])
        return {
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "implementation_version": python_full_version,
            "os_name": self.os_name,
            "platform_machine": self.platform_machine,
            "platform_release": "",
            "platform_system": self.platform_system,
            "platform_version": "",
            "python_full_version": python_full_version,
            "python_version": major_minor,
            "sys_platform": self.sys_platform,
        }


def _manylinux(arch: str, newest: int = 35) -> tuple[str, ...]:
    # glibc 2.35 (Ubuntu 22.04) down to 2.17; the legacy names are aliases of 2.17/2.12/2.5.
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(newest, 16, -1)]
    return (*tags, f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}")


def _macos_arm64(newest: int = 15) -> tuple[str, ...]:
    # macOS 15 down to the universal2 wheels built for 10.x, which Apple silicon runs too.
    from packaging.tags import mac_platforms

    return tuple(mac_platforms((newest, 0), "arm64"))


PLATFORMS: dict[str, Platform] = {
    p.name: p
    for p in (
        Platform("linux-x86_64", "linux", "Linux", "x86_64", "posix", _manylinux("x86_64")),
        Platform("linux-aarch64", "linux", "Linux", "aarch64", "posix", _manylinux("aarch64")),
        Platform("macos-arm64", "darwin", "Darwin", "arm64", "posix", _macos_arm64()),
        Platform("windows-x86_64", "win32", "Windows", "AMD64", "nt", ("win_amd64",)),
    )
}


def parse_platforms(value: str | list[str] | None) -> list[Platform]:
    """Platforms named in a comma-separated list (None or "all": every one)."""
    if value is None or value == "all":
        return list(PLATFORMS.values())
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
    unknown = [n for n in names if n not in PLATFORMS]
    if unknown or not names:
        raise InputError(
            f"unknown platform {', '.join(unknown) or '(none)'}; choose among "
            f"{', '.join(PLATFORMS)}"
        )
    return [PLATFORMS[n] for n in dict.fromkeys(names)]


@dataclass(frozen=True)
class Requirement:
    """One line of the exported lock: a pinned package, where it applies, its allowed hashes."""

    name: str
    version: str
    marker: str | None
    hashes: tuple[str, ...]

    def line(self) -> str:
        """The requirement as a pip/uv requirements line, hashes and marker kept."""
        marker = f" ; {self.marker}" if self.marker else ""
        hashes = "".join(f" \\\n    --hash=sha256:{h}" for h in self.hashes)
        return f"{self.name}=={self.version}{marker}{hashes}"


@dataclass(frozen=True)
class WheelFile:
    """A file a platform installs: a wheel (or, failing one, the sdist) from the lock."""

    filename: str
    url: str
    sha256: str
    size: int | None


def find_uv() -> list[str]:
    """The command that runs uv: the one running us (``uv run`` sets ``UV``), on PATH, or
    ``python -m uv``."""
    import os

    running = os.environ.get("UV")
    if running and Path(running).is_file():
        return [running]
    found = shutil.which("uv")
    if found:
        return [found]
    try:
        import uv  # noqa: F401  # the PyPI package ships the binary
    except ImportError:
        raise CubeError("cube pack needs uv: install it (pip install uv), then run again") from None
    return [sys.executable, "-m", "uv"]


def exported_requirements(
    project: Path, extras: tuple[str, ...] = ("offline",)
) -> list[Requirement]:
    """The project's locked runtime packages (no dev groups, not the project itself)."""
    if not (project / "uv.lock").is_file():
        raise InputError(
            f"no uv.lock in {project}; run cube pack in a checkout of cube (or pass project=)"
        )
    command = [
        *find_uv(),
        "export",
        "--format",
        "requirements.txt",
        "--frozen",
        "--no-dev",
        "--no-emit-project",
        "--no-header",
        "--no-annotate",
        *(arg for extra in extras for arg in ("--extra", extra)),
    ]
    done = subprocess.run(command, cwd=project, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise CubeError(f"uv export failed in {project}: {last}")
    return parse_requirements(done.stdout)


_LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*$"
)


def parse_requirements(text: str) -> list[Requirement]:
    """Requirement lines as ``uv export`` writes them (continuation lines joined)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    requirements = []
    for raw in joined.splitlines():
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        hashes = tuple(re.findall(r"--hash=sha256:([0-9a-f]{64})", raw))
        head = re.sub(r"\s*--hash=sha256:[0-9a-f]{64}", "", raw).strip()
        match = _LINE.match(head)
        if not match:
            raise CubeError(f"cannot read this line of uv export's output: {head!r}")
        requirements.append(Requirement(match["name"], match["version"], match["marker"], hashes))
    return requirements


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_files(project: Path) -> dict[tuple[str, str], tuple[list[WheelFile], WheelFile | None]]:
    """Every locked package's wheels and sdist, by (normalized name, version)."""
    with open(project / "uv.lock", "rb") as f:
        lock = tomllib.load(f)
    files = {}
    for package in lock.get("package", []):

        def entry(item: dict) -> WheelFile:
            url = item["url"]
            digest = item["hash"].removeprefix("sha256:")
            return WheelFile(url.rsplit("/", 1)[-1], url, digest, item.get("size"))

        wheels = [entry(w) for w in package.get("wheels", []) if "url" in w]
        sdist = entry(package["sdist"]) if "url" in package.get("sdist", {}) else None
        files[(_normalize(package["name"]), package["version"])] = (wheels, sdist)
    return files


# Patch releases a learner's Python may be: markers such as python_full_version < '3.11.5'
# split the lock there, and a pack must carry both sides.
def _patch_versions(python: str) -> list[str]:
    return [f"{python}.{patch}" for patch in range(0, 30)]


def applies(requirement: Requirement, platform: Platform, python: str = "3.11") -> bool:
    """Whether a laptop of ``platform`` with Python ``python`` (any patch release) installs it."""
    if not requirement.marker:
        return True
    from packaging.markers import Marker

    marker = Marker(requirement.marker)
    return any(marker.evaluate(platform.environment(v)) for v in _patch_versions(python))


def best_wheel(
    wheels: list[WheelFile], platform: Platform, python: str = "3.11"
) -> WheelFile | None:
    """The wheel an installer would take on ``platform`` (None if none fits)."""
    from packaging.tags import compatible_tags, cpython_tags
    from packaging.utils import parse_wheel_filename

    version = tuple(int(p) for p in python.split("."))
    tags = [
        *cpython_tags(version, platforms=platform.wheel_platforms),
        *compatible_tags(version, f"cp{version[0]}{version[1]}", platform.wheel_platforms),
    ]
    rank = {str(tag): i for i, tag in enumerate(tags)}
    best, best_rank = None, len(rank)
    for wheel in wheels:
        try:
            _, _, _, wheel_tags = parse_wheel_filename(wheel.filename)
        except ValueError:
            continue
        score = min((rank.get(str(t), len(rank)) for t in wheel_tags), default=len(rank))
        if score < best_rank:
            best, best_rank = wheel, score
    return best


@dataclass(frozen=True)
class PlatformSelection:
    """What one platform installs: its requirement lines and the files behind them."""

    platform: Platform
    requirements: list[Requirement]
    files: list[WheelFile]
    sdists: list[str]  # packages with no wheel for this platform (built on the laptop)

    @property
    def size(self) -> int:
        return sum(f.size or 0 for f in self.files)


def select_wheels(
    project: Path, platform: Platform, requirements: list[Requirement], python: str = "3.11"
) -> PlatformSelection:
    """The requirements ``platform`` installs and, for each, the one file it needs."""
    files_by_package = lock_files(project)
    chosen_requirements, files, sdists = [], [], []
    for requirement in requirements:
        if not applies(requirement, platform, python):
            continue
        key = (_normalize(requirement.name), requirement.version)
        if key not in files_by_package:
            raise CubeError(
                f"{requirement.name} {requirement.version} is not in uv.lock; run `uv lock`"
            )
        wheels, sdist = files_by_package[key]
        wheel = best_wheel(wheels, platform, python)
        if wheel is None:
            if sdist is None:
                raise CubeError(
                    f"{requirement.name} {requirement.version} has neither a wheel for "
                    f"{platform.name} nor a source archive in uv.lock; leave {platform.name} out of platforms="
                )
            wheel = sdist
            sdists.append(requirement.name)
        if wheel.sha256 not in requirement.hashes:
            raise CubeError(f"{wheel.filename}'s hash in uv.lock is not among uv export's")
        chosen_requirements.append(requirement)
        files.append(wheel)
    return PlatformSelection(platform, chosen_requirements, files, sdists)
