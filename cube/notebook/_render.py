"""``cube render``: execute notebooks headlessly in a fresh kernel and write HTML."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cube._cache import atomic_write
from cube._errors import CubeError, InputError
from cube._progress import RENDERING_ENV

RENDER_FORMATS = ("html", "ipynb")


def kit_notebooks_dir() -> Path:
    """Where the kit's own notebooks are: inside the installed package, else the checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_notebooks", here.parent / "notebooks"):
        if candidate.is_dir() and any(candidate.glob("*.ipynb")):
            return candidate
    raise CubeError("the kit's notebooks are not installed; pass notebook paths instead")


def kit_notebooks() -> list[Path]:
    return sorted(kit_notebooks_dir().glob("[0-9]*.ipynb"))


@dataclass(frozen=True)
class RenderFailure:
    notebook: Path
    cell: int  # 1-based, counting every cell
    error: str

    def __str__(self) -> str:
        return f"{self.notebook.name}: cell {self.cell} failed: {self.error}"


@contextlib.contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _failure(path: Path, nb) -> RenderFailure:
    for number, cell in enumerate(nb.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return RenderFailure(path, number, f"{output['ename']}: {output['evalue']}")
    return RenderFailure(path, 0, "the kernel stopped")


def execute(path: Path, *, timeout: int = 1800, kernel_name: str = "python3"):
    """Run a notebook top to bottom in a fresh kernel; returns (notebook, failure or None)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="cube-render-") as workdir:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=kernel_name,
            resources={"metadata": {"path": workdir}},
        )
        try:
            client.execute()
        except (CellExecutionError, DeadKernelError):
            return nb, _failure(path, nb)
    return nb, None


def to_html(nb) -> str:
    """An executed notebook as one HTML page that needs no network (see templates/cube)."""
    import copy

    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="cube", extra_template_basedirs=[str(Path(__file__).parent / "templates")]
    )
    page = copy.deepcopy(nb)
    # Saved widget state would make the page load the widget manager from a CDN; widgets show
    # their plain-text fallback instead.
    page.metadata.pop("widgets", None)
    body, _ = exporter.from_notebook_node(page)
    return body


def render(
    notebooks: Sequence[str | os.PathLike] | None = None,
    out: str | os.PathLike = "rendered",
    *,
    formats: Sequence[str] = ("html",),
    quick: bool | None = None,
    timeout: int = 1800,
) -> tuple[list[Path], list[RenderFailure]]:
    """Execute notebooks (default: the kit's own) and write one HTML per notebook to ``out``.

    ``quick=True`` sets ``CUBE_QUICK=1`` for the kernels (small samples); by default the
    current ``CUBE_QUICK`` passes through. Returns the files written and the failures.

    Example:
        >>> written, failures = render(["notebooks/01-texts-to-vectors.ipynb"], "site/")
    """
    for fmt in formats:
        if fmt not in RENDER_FORMATS:
            raise InputError(f"cannot render to {fmt!r}; use {' or '.join(RENDER_FORMATS)}")
    paths = [Path(p).expanduser() for p in notebooks] if notebooks else kit_notebooks()
    for path in paths:
        if not path.is_file():
            raise InputError(f"{path} does not exist; pass .ipynb files")
        if path.suffix != ".ipynb":
            raise InputError(f"{path} is not a notebook (.ipynb)")
    out_dir = Path(out).expanduser()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out_dir} ({exc.strerror})") from exc
    env = {RENDERING_ENV: "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    if quick is not None:
        env["CUBE_QUICK"] = "1" if quick else None
    written: list[Path] = []
    failures: list[RenderFailure] = []
    import nbformat

    from cube._progress import progress

    with _environment(env):
        for path in progress(paths, desc="Rendering", unit="notebook", disable=len(paths) < 2):
            nb, failure = execute(path, timeout=timeout)
            if failure is not None:
                failures.append(failure)
                continue
            if "html" in formats:
                target = out_dir / f"{path.stem}.html"
                atomic_write(target, to_html(nb))
                written.append(target)
            if "ipynb" in formats:
                target = out_dir / path.name
                atomic_write(target, nbformat.writes(nb))
                written.append(target)
    return written, failures


__all__ = ["RenderFailure", "execute", "kit_notebooks", "kit_notebooks_dir", "render", "to_html"]
