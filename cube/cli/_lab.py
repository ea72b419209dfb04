"""``cube lab``: JupyterLab on working copies of the course notebooks."""

from __future__ import annotations

import argparse


def _cmd_lab(args: argparse.Namespace) -> int:
    from cube.notebook import launch_lab

    return launch_lab(args.dir, port=args.port, open_browser=not args.no_browser)


def add_parser(commands) -> None:
    lab = commands.add_parser(
        "lab",
        help="open JupyterLab on the kit's notebooks (localhost, token login)",
        description="Start JupyterLab on the kit's notebooks. Read-only notebooks (an installed "
        "package, the Nix store) are first copied into DIR (default ./cube-notebooks); a copy "
        "that already exists is never overwritten.",
    )
    lab.add_argument("dir", nargs="?", help="working folder for your copies of the notebooks")
    lab.add_argument("--port", type=int, default=None, help="port (default: Jupyter's)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lab.set_defaults(handler=_cmd_lab)
