"""``cube render``: run notebooks in a fresh kernel, write HTML handouts."""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = """\
Execute notebooks headlessly (default: the kit's own), each in a fresh kernel, and
write one HTML page per notebook that opens offline: figures and printed results,
without progress bars, warnings or live widgets. CUBE_QUICK passes through to the
kernels. Handouts leave out the exercises' solutions (--solutions keeps them). One
line per notebook says which one runs and its seconds."""

EXAMPLES = """\
examples:
  cube render --quick --out handouts/
      every course notebook on small samples (a few minutes; warms the caches)
  cube render notebooks/02a-vectors-to-groups.ipynb --out handouts/
      one notebook at full size
  cube render --solutions --out instructor/
      the instructor's version: every exercise's solution run and shown
  cube render analysis.ipynb --to html,ipynb --timeout 3600
      your own notebook: the page and the executed notebook, in ./rendered
"""


def _cmd_render(args: argparse.Namespace) -> int:
    from cube.notebook import render

    formats = [f.strip() for f in args.to.split(",") if f.strip()]
    written, failures = render(
        args.notebooks or None,
        args.out,
        formats=formats,
        quick=True if args.quick else None,
        timeout=args.timeout,
        solutions=args.solutions,
    )
    for path in written:
        print(f"wrote {path}")
    for failure in failures:
        print(f"cube: error: {failure}", file=sys.stderr)
    return 1 if failures else 0


def add_parser(commands) -> None:
    render = commands.add_parser(
        "render",
        help="execute notebooks in a fresh kernel and write HTML",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    render.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help=".ipynb files")
    render.add_argument("--to", default="html", help="html, ipynb, or both: html,ipynb")
    render.add_argument("--out", default="rendered", help="output folder (default: rendered)")
    render.add_argument("--quick", action="store_true", help="small samples (CUBE_QUICK=1)")
    render.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    render.add_argument(
        "--solutions",
        action="store_true",
        help="keep and run the exercises' solutions (NAME.solutions.html, for instructors)",
    )
    render.set_defaults(handler=_cmd_render)
