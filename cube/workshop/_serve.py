"""``cube pack --serve``: the pack's folder over HTTP on the room's network, read-only."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import socket
from pathlib import Path
from typing import ClassVar

from cube._errors import InputError
from cube.workshop import _scripts
from cube.workshop._pack import PACK_JSON


def lan_address() -> str:
    """This machine's address on the local network (no packet is sent to find it)."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("10.255.255.255", 1))
        return s.getsockname()[0]
    return "127.0.0.1"


class _Handler(http.server.SimpleHTTPRequestHandler):
    scripts: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        name = self.path.split("?", 1)[0].lstrip("/")
        if name in self.scripts:
            body = self.scripts[name]
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, format: str, *args) -> None:  # one line per learner, not per file
        if self.path.split("?", 1)[0].endswith(("/get.sh", "/get.ps1")):
            super().log_message(format, *args)


def make_server(
    folder: str | os.PathLike, *, host: str = "0.0.0.0", port: int = 8765
) -> tuple[http.server.ThreadingHTTPServer, list[str]]:
    """A server for ``folder`` (not started) and the lines that tell learners what to paste."""
    root = Path(folder)
    if not (root / PACK_JSON).is_file():
        raise InputError(f"{root} is not a cube pack (no {PACK_JSON}); make one with cube pack")
    try:
        server = http.server.ThreadingHTTPServer((host, port), _Handler)
    except OSError as exc:
        raise InputError(
            f"cannot serve on port {port} ({exc.strerror}); pass another port="
        ) from exc
    server.daemon_threads = True
    server.request_queue_size = 128  # a room starting at once
    shown = lan_address() if host in ("0.0.0.0", "") else host
    url = f"http://{shown}:{server.server_address[1]}"
    handler = type("Handler", (_Handler,), {"scripts": _scripts.served(url)})
    server.RequestHandlerClass = functools.partial(handler, directory=str(root))
    lines = [
        f"serving {root.resolve()} on {url}/ (Ctrl-C stops)",
        f"Linux, macOS:  curl -fsSL {url}/get.sh | sh",
        f'Windows:       powershell -ExecutionPolicy Bypass -c "irm {url}/get.ps1 | iex"',
        f"handouts:      {url}/course/handouts/",
    ]
    return server, lines


def serve(folder: str | os.PathLike, *, host: str = "0.0.0.0", port: int = 8765) -> None:
    """Serve a pack until Ctrl-C."""
    server, lines = make_server(folder, host=host, port=port)
    for line in lines:
        print(line, flush=True)
    with server:
        server.serve_forever()
