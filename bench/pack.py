"""Benchmark: a workshop pack at full size, installed by a learner with the network cut.

Run: uv run python bench/pack.py [--out DIR] [--platforms all] [--learners 30] [--skip-build]

1. Builds the pack (every platform asked for): wheels from the registry (once; a second pack
   reuses the download folder), the course rendered at full size into the course cache, the
   cache exported. Prints the size per platform, in all, and the time of each step.
2. As a learner on this machine: a fresh folder, a fresh uv cache and cube cache, the network
   cut with `unshare -n`, `START-HERE.sh` (environment, cache import, doctor). Then notebooks
   1, 2, 3 and 5 rendered at full size in that environment, still offline, and every figure and table
   they show compared byte for byte with the instructor's executed handouts. Done twice: with
   the laptop's own backend choice, and with CUBE_EMBEDDING_BACKEND forced to the other one.
3. `cube pack --serve`: N learners at once fetch every file a linux-x86_64 laptop needs over
   loopback, each file checked against its SHA-256 (and then discarded: 30 installed copies
   would not fit on this disk). Prints the time for all of them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# The issue names 1 and 3; 2a, 2b and 5 draw the topic figures (3's handout holds none).
NOTEBOOKS = (
    "01-texts-to-vectors",
    "02a-vectors-to-groups",
    "02b-groups-to-words",
    "03-explore-interactively",
    "05-topics-through-time-and-groups",
)
# No network but loopback, as on a laptop with its wifi off (Jupyter's kernels talk over it).
OFFLINE = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "offline"]
SHOWN = ("application/vnd.plotly.v1+json", "text/html", "image/png", "text/plain")


def build(out: Path, platforms: str, quick: bool) -> None:
    from cube.workshop import build_pack

    started = time.perf_counter()
    report = build_pack(out, platforms=platforms, force=True, quick=quick)
    print("## the pack")
    for line in report.lines():
        print(line)
    print("steps: " + ", ".join(f"{k} {v:.0f} s" for k, v in report.seconds.items()))
    print(f"built in {time.perf_counter() - started:.0f} s")


def _outputs(notebook: Path) -> list[tuple[int, str, str]]:
    """(cell, type, data) of everything a reader sees that a run computes (figures, tables,
    printed results), in order; timings printed by cells are masked."""
    import re

    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    seen = []
    for number, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                data = {"text/plain": output.get("text", "")}
            for kind in SHOWN:
                if kind in data:
                    value = data[kind]
                    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
                    if kind == "text/plain":
                        text = re.sub(r"\d+(\.\d+)? ?(s|ms|seconds?)\b", "<time>", text)
                        text = re.sub(r"cache \S+ \|", "cache <its folder> |", text)
                    seen.append((number, kind, text))
                    break
    return seen


def learner(pack: Path, work: Path, backend: str | None) -> None:
    label = f"backend forced to {backend}" if backend else "the laptop's own backend"
    print(f"\n## a learner, network cut, {label}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CUBE_CACHE_DIR")}
    env.update(
        CUBE_WORKSHOP=str(work / "cube-workshop"),
        CUBE_CACHE_DIR=str(work / "cube-cache"),
        UV_CACHE_DIR=str(work / "uv-cache"),
        HF_HOME=str(work / "hf"),
    )
    if backend:
        env["CUBE_EMBEDDING_BACKEND"] = backend
    started = time.perf_counter()
    done = subprocess.run(
        [*OFFLINE, "sh", str(pack / "START-HERE.sh")],
        env=env,
        capture_output=True,
        text=True,
    )
    install = time.perf_counter() - started
    tail = [line for line in done.stdout.splitlines() if line.strip()][-4:]
    print(f"START-HERE.sh: exit {done.returncode} in {install:.0f} s")
    for line in tail:
        print(f"  {line}")
    if done.returncode != 0:
        print(done.stderr[-2000:])
        return
    cube = work / "cube-workshop" / ".venv" / "bin" / "cube"
    kit = pack / "course" / "handouts"
    for name in NOTEBOOKS:
        started = time.perf_counter()
        run = subprocess.run(
            [
                *OFFLINE,
                str(cube),
                "render",
                "--to",
                "html,ipynb",
                "--out",
                str(work / "run"),
                str(_kit_notebook(cube, name)),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        if run.returncode != 0:
            print(f"{name}: failed after {seconds:.0f} s\n{run.stderr[-2000:]}")
            continue
        mine = _outputs(work / "run" / f"{name}.ipynb")
        theirs = _outputs(kit / f"{name}.ipynb")
        same = sum(a == b for a, b in zip(mine, theirs, strict=False))
        figures = sum(k == "application/vnd.plotly.v1+json" for _, k, _ in theirs)
        same_figures = sum(
            a == b
            for a, b in zip(mine, theirs, strict=False)
            if b[1] == "application/vnd.plotly.v1+json"
        )
        print(
            f"{name}: {seconds:.0f} s at full size; outputs identical to the instructor's: "
            f"{same} of {len(theirs)} (figures {same_figures} of {figures})"
            + ("" if len(mine) == len(theirs) else f"; the learner's run shows {len(mine)}")
        )
        for (cell, kind, text), other in zip(mine, theirs, strict=False):
            if (cell, kind, text) != other:
                at = next(
                    (i for i, (a, b) in enumerate(zip(text, other[2], strict=False)) if a != b),
                    min(len(text), len(other[2])),
                )
                print(
                    f"  differs: cell {cell} {kind}, from character {at}: "
                    f"{text[max(0, at - 60) : at + 60]!r} vs {other[2][max(0, at - 60) : at + 60]!r}"
                )


def _kit_notebook(cube: Path, name: str) -> Path:
    python = cube.parent / "python"
    done = subprocess.run(
        [str(python), "-c", "from cube.notebook import kit_notebooks_dir as k; print(k())"],
        capture_output=True,
        text=True,
    )
    return Path(done.stdout.strip()) / f"{name}.ipynb"


def serve(pack: Path, learners: int) -> None:
    print(f"\n## {learners} learners at once over loopback (cube pack --serve)")
    port = 8765
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "cube"),
            "pack",
            "--serve",
            str(pack),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    print(server.stdout.readline().strip())
    base = f"http://127.0.0.1:{port}"
    manifest = (pack / "MANIFEST.linux-x86_64").read_text().splitlines()
    files = [line.split("  ", 1) for line in manifest if line]
    total = sum((pack / rel).stat().st_size for _, rel in files)

    def one(_: int) -> tuple[float, int]:
        started = time.perf_counter()
        bad = 0
        for digest, rel in files:
            h = hashlib.sha256()
            with urllib.request.urlopen(f"{base}/{rel}", timeout=600) as response:
                while block := response.read(1 << 20):
                    h.update(block)
            bad += h.hexdigest() != digest
        return time.perf_counter() - started, bad

    started = time.perf_counter()
    with ThreadPoolExecutor(learners) as pool:
        results = list(pool.map(one, range(learners)))
    elapsed = time.perf_counter() - started
    server.terminate()
    server.wait()
    slowest = max(t for t, _ in results)
    damaged = sum(b for _, b in results)
    print(
        f"{learners} learners x {len(files)} files ({total / 1e9:.2f} GB each, "
        f"{learners * total / 1e9:.0f} GB in all): all done in {elapsed:.0f} s "
        f"(slowest learner {slowest:.0f} s), {damaged} files failed their checksum"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "cube-pack-bench"))
    parser.add_argument("--platforms", default="all")
    parser.add_argument("--learners", type=int, default=30)
    parser.add_argument("--skip-build", action="store_true", help="reuse the pack in --out")
    parser.add_argument("--skip-serve", action="store_true")
    parser.add_argument("--quick", action="store_true", help="the course's quick samples (a trial)")
    args = parser.parse_args()
    pack = Path(args.out)
    if not args.skip_build:
        build(pack, args.platforms, args.quick)
    if args.quick:
        os.environ["CUBE_QUICK"] = "1"  # the learner's runs too
    from cube.embeddings import choose_backend

    own = choose_backend(None, "all-MiniLM-L6-v2").name
    work = pack.parent / "cube-pack-learner"
    learner(pack, work, None)
    learner(pack, work, "torch" if own == "onnx" else "onnx")
    shutil.rmtree(work, ignore_errors=True)
    if not args.skip_serve:
        serve(pack, args.learners)


if __name__ == "__main__":
    main()
