"""``cube pack``: a folder that sets a room of laptops up offline; ``--serve`` shares it."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Make one folder that sets up every learner's laptop with no network: the locked wheels for
each platform (chosen from uv.lock, downloaded once, hash-checked), uv, cube, the course
(notebooks, handouts run at full size, solutions for you), the course's warmed cache, start
scripts and a MANIFEST of checksums. Copy it to a USB stick, or serve it on the room's
network with --serve. Run it the day before: it renders every notebook at full size."""

EXAMPLES = """\
examples:
  cube pack workshop-pack
      every platform (Linux x86_64 and aarch64, macOS arm64, Windows x86_64)
  cube pack workshop-pack --platforms linux-x86_64,windows-x86_64
      only the laptops your room has
  cube pack --serve workshop-pack
      serve it on the LAN; learners paste one line (printed) to set up
"""


def _cmd_pack(args: argparse.Namespace) -> int:
    if args.serve:
        from cube.workshop import serve

        try:
            serve(args.out, host=args.host, port=args.port)
        except KeyboardInterrupt:
            print("stopped serving")
        return 0
    from cube.workshop import build_pack

    report = build_pack(
        args.out,
        platforms=args.platforms,
        python=args.python,
        project=args.project,
        course=not args.no_course and args.cache_dir is None,
        quick=args.quick,
        cache_dir=args.cache_dir,
        force=args.force,
    )
    for line in report.lines():
        print(line)
    seconds = ", ".join(f"{k} {v:.0f} s" for k, v in report.seconds.items())
    print(f"time: {seconds}")
    return 0


def add_parser(commands) -> None:
    pack = commands.add_parser(
        "pack",
        help="a folder that sets up a room of laptops offline (--serve shares it)",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    pack.add_argument("out", metavar="FOLDER", help="the pack's folder")
    pack.add_argument(
        "--platforms",
        default="all",
        help="comma-separated: linux-x86_64, linux-aarch64, macos-arm64, windows-x86_64 "
        "(default: all)",
    )
    pack.add_argument("--python", default="3.11", help="learners' Python, major.minor (3.11)")
    pack.add_argument("--project", default=None, help="the cube checkout holding uv.lock")
    pack.add_argument("--no-course", action="store_true", help="wheels and scripts only")
    pack.add_argument("--quick", action="store_true", help="warm the quick samples only")
    pack.add_argument(
        "--cache-dir",
        default=None,
        help="pack this cache instead of running the course (one warmed for your own corpus)",
    )
    pack.add_argument("--force", action="store_true", help="replace an existing pack")
    pack.add_argument("--serve", action="store_true", help="serve FOLDER on the LAN instead")
    pack.add_argument("--host", default="0.0.0.0", help="address to serve on (all)")
    pack.add_argument("--port", type=int, default=8765, help="port to serve on (8765)")
    pack.set_defaults(handler=_cmd_pack)
