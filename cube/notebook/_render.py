"""``cube render``: execute notebooks headlessly in a fresh kernel and write HTML."""

from __future__ import annotations

import contextlib
import copy
import os
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cube._cache import atomic_write
from cube._errors import CubeError, InputError
from cube._progress import RENDERING_ENV
from cube.notebook._solutions import is_check, strip_checks, strip_solutions

RENDER_FORMATS = ("html", "ipynb")

# The kernels `cube render` starts show no progress bars and no warnings: a handout holds
# figures and printed results only. (cube's own bars follow CUBE_RENDERING, see _progress.)
QUIET_KERNEL_ENV = {
    RENDERING_ENV: "1",
    "TQDM_DISABLE": "1",  # any tqdm bar, e.g. BERTopic's and UMAP's
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # huggingface_hub, and transformers' "Loading weights"
    "TRANSFORMERS_VERBOSITY": "error",
    "PYTHONWARNINGS": "ignore",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # the debugger's frozen-modules note
}
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
_WIDGET_REPR = re.compile(r"^\s*(?:[A-Z]\w*Box|Tab|Accordion|Stack|Output)\(")


def kit_notebooks_dir() -> Path:
    """Where the kit's own notebooks are: inside the installed package, else the checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_notebooks", here.parent / "notebooks"):
        if candidate.is_dir() and any(candidate.glob("*.ipynb")):
            return candidate
    raise CubeError("the kit's notebooks are not installed; pass notebook paths instead")


def kit_notebooks() -> list[Path]:
    return sorted(kit_notebooks_dir().glob("[0-9]*.ipynb"))


def workshop_notebooks() -> list[Path]:
    """The course notebooks a workshop pack runs and warms its cache for: all but those whose
    metadata says ``{"cube": {"workshop": false}}`` (notebook 7 embeds 200,000 passages on a
    cluster at full size; learners still get it, to run with a smaller ``SAMPLE``).

    Example:
        >>> [p.stem for p in workshop_notebooks()][-1]
        '06-your-own-data'
    """
    import json

    def in_workshop(path: Path) -> bool:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
        return meta.get("cube", {}).get("workshop", True) is not False

    return [p for p in kit_notebooks() if in_workshop(p)]


_SAMPLE = re.compile(r"^SAMPLE = (\d+)", re.M)
_QUICK_SAMPLE = re.compile(r"^QUICK_SAMPLE = (\d+)", re.M)
_SEED = re.compile(r"^SEED = (\d+)", re.M)


def course_samples(quick: bool | None = None) -> list[tuple[str, int, int]]:
    """(notebook, sample size, seed) of each course notebook that embeds a sample of the bundled
    corpus with ``cube.datasets.load("sotu", sample=..., seed=...)``, read from its parameters:
    ``SAMPLE``, or ``QUICK_SAMPLE`` in quick mode (default: the ``quick`` setting, CUBE_QUICK).

    Example:
        >>> course_samples()[0]
        ('01-texts-to-vectors', 2000, 0)
    """
    import nbformat

    from cube import _config

    quick = _config.get_config().quick if quick is None else quick
    samples = []
    for path in kit_notebooks():
        cells = nbformat.read(path, as_version=4).cells
        source = "\n".join(c.source for c in cells if c.cell_type == "code")
        size, small, seed = (
            _SAMPLE.search(source),
            _QUICK_SAMPLE.search(source),
            _SEED.search(source),
        )
        if size and seed and 'load("sotu", sample=n_passages, seed=SEED' in source:
            chosen = small if quick and small else size
            samples.append((path.stem, int(chosen[1]), int(seed[1])))
    return samples


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


def execute(
    path: Path,
    *,
    timeout: int = 1800,
    kernel_name: str = "python3",
    quiet: bool = True,
    solutions: bool = True,
):
    """Run a notebook top to bottom in a fresh kernel; returns (notebook, failure or None).

    ``quiet``: the kernel runs with :data:`QUIET_KERNEL_ENV` (no progress bars, no warnings).
    ``solutions=False`` first removes the cells tagged ``solution`` (the learner's version).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    from traitlets.config import Config

    nb = nbformat.read(path, as_version=4)
    if not solutions:
        strip_solutions(nb)
    # The kernel manager gives the kernel CurveZMQ keys when its kernelspec supports them
    # (ipykernel >= 7.4): the kernel's sockets are encrypted, and it no longer prints
    # "Kernel is running over TCP without encryption" into the render's terminal.
    config = Config({"KernelManager": {"transport_encryption": "auto"}})
    with tempfile.TemporaryDirectory(prefix="cube-render-") as workdir:
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name=kernel_name,
            resources={"metadata": {"path": workdir}},
            config=config,
        )
        try:
            with _environment(QUIET_KERNEL_ENV if quiet else {}):
                client.execute()
        except (CellExecutionError, DeadKernelError):
            return nb, _failure(path, nb)
    return nb, None


def _handout_output(output) -> dict | None:
    """One output as a handout shows it, or None when a reader has nothing to see in it.

    Dropped: what a kernel writes to stderr (warnings, progress bars, log lines), and a live
    widget: its view needs a kernel, and its ``text/plain`` is a repr (``VBox(children=...``,
    a tqdm bar's text). A widget's static fallback (an image, HTML) stays.
    """
    kind = output.get("output_type")
    if kind == "stream":
        return output if output.get("name") != "stderr" else None
    if kind not in ("display_data", "execute_result"):
        return output
    data = dict(output.get("data", {}))
    plain = data.get("text/plain", "")
    plain = "".join(plain) if isinstance(plain, list) else plain
    if WIDGET_MIME in data or _WIDGET_REPR.match(plain):
        data.pop(WIDGET_MIME, None)
        data.pop("text/plain", None)
    if not data:
        return None
    output = copy.deepcopy(output)
    output["data"] = data
    return output


def describe_images(nb) -> None:
    """Give each figure's PNG copy its alt text (``metadata["image/png"]["alt"]``, which
    nbconvert's templates and cube's handout template write into ``<img alt=…>``): the words
    :func:`cube.notebook.setup` prints beneath the figure, from the figure's own JSON."""
    from cube.figures import figure_alt_text

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PLOTLY_MIME not in data or "image/png" not in data:
                continue
            meta = output.setdefault("metadata", {}).setdefault("image/png", {})
            if not meta.get("alt"):
                try:
                    meta["alt"] = figure_alt_text(data[PLOTLY_MIME])
                except Exception:  # a figure JSON cube cannot read: its title at least
                    title = data[PLOTLY_MIME].get("layout", {}).get("title", {})
                    meta["alt"] = str(title.get("text", "") if isinstance(title, dict) else title)


def handout(nb):
    """A copy of an executed notebook with only what a reader of a handout wants to see."""
    page = copy.deepcopy(nb)
    describe_images(page)
    # Saved widget state would make the page load the widget manager from a CDN.
    page.metadata.pop("widgets", None)
    page.cells = [c for c in page.cells if not is_check(c)]  # asserts for the tests
    for cell in page.cells:
        if "outputs" in cell:
            kept = (_handout_output(o) for o in cell.outputs)
            cell.outputs = [o for o in kept if o is not None]
    return page


def tex_to_mathml(tex: str, *, display: bool = False) -> str:
    """A TeX formula as MathML, which browsers draw themselves: a handout needs no MathJax (a
    script from a CDN) to show its formulas offline. A formula the converter cannot read stays
    as its TeX source, in a ``<code>``.

    Example:
        >>> tex_to_mathml(r"\\frac{a}{b}")
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline" ...><mfrac>...'
    """
    from html import escape

    from latex2mathml.converter import convert

    try:
        mathml = convert(tex, display="block" if display else "inline")
    except Exception:  # the reader still gets the formula, as written
        delimiter = "$$" if display else "$"
        return f'<code class="cube-tex">{escape(delimiter + tex + delimiter)}</code>'
    # The TeX stays with it: a screen reader can read either, and a copy keeps the source.
    return mathml.replace("<math ", f'<math alttext="{escape(tex.strip())}" ', 1)


def _exporter():
    """nbconvert's HTML exporter, whose Markdown cells give their formulas as MathML."""
    from jinja2 import pass_context
    from nbconvert import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class MathMLRenderer(IPythonRenderer):
        def block_math(self, body: str) -> str:
            return tex_to_mathml(body, display=True)

        def inline_math(self, body: str) -> str:
            return tex_to_mathml(body)

        def latex_environment(self, name: str, body: str) -> str:
            return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)

    class HandoutExporter(HTMLExporter):
        @pass_context  # as HTMLExporter's: the cell (its attachments) comes from the template
        def markdown2html(self, context, source):
            cell = context.get("cell", {})
            renderer = MathMLRenderer(
                escape=False,
                attachments=cell.get("attachments", {}),
                embed_images=self.embed_images,
                path=context.get("resources", {}).get("metadata", {}).get("path", ""),
                anchor_link_text=self.anchor_link_text,
                exclude_anchor_links=self.exclude_anchor_links,
                **getattr(self, "lexer_options", {}),  # nbconvert 7.16.1 and later
            )
            return MarkdownWithMath(renderer=renderer).render(source)

    return HandoutExporter(
        template_name="cube", extra_template_basedirs=[str(Path(__file__).parent / "templates")]
    )


def to_html(nb) -> str:
    """An executed notebook as one offline HTML page, as a handout (see :func:`handout`); its
    formulas are MathML (:func:`tex_to_mathml`)."""
    body, _ = _exporter().from_notebook_node(handout(nb))
    return body


def render(
    notebooks: Sequence[str | os.PathLike] | None = None,
    out: str | os.PathLike = "rendered",
    *,
    formats: Sequence[str] = ("html",),
    quick: bool | None = None,
    timeout: int = 1800,
    verbose: bool = True,
    solutions: bool = False,
) -> tuple[list[Path], list[RenderFailure]]:
    """Execute notebooks (default: the kit's own) and write one HTML per notebook to ``out``.

    ``quick=True`` sets ``CUBE_QUICK=1`` for the kernels (small samples); by default the
    current ``CUBE_QUICK`` passes through. The kernels show no progress bars or warnings
    (:data:`QUIET_KERNEL_ENV`), and the pages drop stderr and widget reprs (:func:`handout`). With ``verbose``, one line per notebook says which one runs
    and how many seconds it took. Handouts leave out the exercises' solutions;
    ``solutions=True`` keeps and runs them and names the pages ``NAME.solutions.html`` (for
    instructors). Returns the files written and the failures.

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
    env: dict[str, str | None] = {}
    if quick is not None:
        env["CUBE_QUICK"] = "1" if quick else None
    written: list[Path] = []
    failures: list[RenderFailure] = []
    import nbformat

    with _environment(env):
        for number, path in enumerate(paths, start=1):
            if verbose:
                print(f"[{number}/{len(paths)}] {path.name} ...", end=" ", flush=True)
            start = time.perf_counter()
            nb, failure = execute(path, timeout=timeout, solutions=solutions)
            if verbose:
                seconds = time.perf_counter() - start
                print(f"{'failed after ' if failure else ''}{seconds:.0f} s", flush=True)
            if failure is not None:
                failures.append(failure)
                continue
            if "html" in formats:
                target = out_dir / f"{path.stem}{'.solutions' if solutions else ''}.html"
                atomic_write(target, to_html(nb))
                written.append(target)
            if "ipynb" in formats:
                target = out_dir / f"{path.stem}{'.solutions' if solutions else ''}.ipynb"
                strip_checks(nb)  # asserts for the tests, not for readers
                describe_images(nb)
                atomic_write(target, nbformat.writes(nb))
                written.append(target)
    return written, failures


__all__ = [
    "RenderFailure",
    "describe_images",
    "execute",
    "handout",
    "kit_notebooks",
    "kit_notebooks_dir",
    "render",
    "tex_to_mathml",
    "to_html",
]
