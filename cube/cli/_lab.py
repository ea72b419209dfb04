"""``cube lab``: JupyterLab on working copies of the course notebooks."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Start JupyterLab on your own copies of the kit's notebooks, in DIR (default
./cube-notebooks). A notebook is copied there only when it is missing, so your
saved work is never overwritten and the course's own notebooks stay unchanged."""

EXAMPLES = """\
examples:
  cube lab
      copy the notebooks into ./cube-notebooks (first time only), open JupyterLab
  cube lab ~/workshop --port 8890 --no-browser
      your copies in ~/workshop; open the URL it prints in your browser
  cube lab --reset 03
      put the original notebook 03 back (your version is kept, renamed
      03-....before-reset.ipynb)
"""


def _cmd_lab(args: argparse.Namespace) -> int:
    if args.reset:
        from cube.notebook import reset_notebook

        print(reset_notebook(args.reset, args.dir))
        return 0
    from cube.notebook import launch_lab

    return launch_lab(args.dir, port=args.port, open_browser=not args.no_browser)


def add_parser(commands) -> None:
    lab = commands.add_parser(
        "lab",
        help="open JupyterLab on your copies of the kit's notebooks (localhost, token login)",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lab.add_argument("dir", nargs="?", help="working folder for your copies of the notebooks")
    lab.add_argument("--port", type=int, default=None, help="port (default: Jupyter's)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lab.add_argument(
        "--reset",
        metavar="NOTEBOOK",
        help="restore one notebook (its number, e.g. 03, or its name) to the original and exit",
    )
    lab.set_defaults(handler=_cmd_lab)
