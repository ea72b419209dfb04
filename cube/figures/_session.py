"""One kaleido browser per process, every call to it bounded in time.

kaleido's own sync server waits without a limit: a browser that dies at start leaves it
waiting forever, and so does one that never answers. :class:`BoundedServer` keeps the same
interface (``open``, ``close``, ``is_running``, ``call_function``), so it stands in for
``kaleido._global_server`` and plotly's ``to_image`` / ``write_image`` go through it too, but
it runs kaleido on an event loop in a thread of its own and waits for each result with a
timeout. On expiry it ends the browser's whole process group (choreographer starts the browser
in a new session) and raises :class:`cube.BrowserFailedError`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
from typing import Any

from cube._errors import BrowserFailedError
from cube.figures._browser import FAILED_HINT, kill_tree

START_TIMEOUT = 30.0  # a working browser starts and loads plotly.js in about 2 s
RENDER_TIMEOUT = 60.0  # per image, enforced by kaleido; the whole call gets this per image
CLOSE_TIMEOUT = 5.0
_TIMEOUTS = (TimeoutError, concurrent.futures.TimeoutError, asyncio.TimeoutError)


def _quiet_logging() -> None:
    """Keep choreographer's and kaleido's log records off the user's terminal.

    With no handler anywhere, Python prints warnings through its last-resort handler; a
    ``NullHandler`` on their loggers stops that, while an application that configured logging
    still receives them.
    """
    for name in ("choreographer", "kaleido", "browser_proc", "logistro"):
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())


def _first_line(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else ""
    text = text.strip().splitlines()[0].rstrip(".") if text.strip() else ""
    return text or type(exc).__name__


def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
    asyncio.set_event_loop(loop)
    with contextlib.suppress(BaseException):
        loop.run_forever()


def _kill_browser(browser: Any) -> None:
    """End the browser's process group at once (choreographer starts it in a new session)."""
    process = getattr(browser, "subprocess", None)
    if process is not None:
        kill_tree(process)


class BoundedServer:
    """A drop-in for kaleido's ``GlobalKaleidoServer`` whose every wait has a limit."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._kaleido: Any = None
        self.options: dict[str, Any] | None = None

    # -- kaleido's interface (kaleido.start_sync_server, stop_sync_server, *_sync functions) --

    def is_running(self) -> bool:
        return self._kaleido is not None

    def open(self, *args: Any, silence_warnings: bool = False, **kwargs: Any) -> None:
        if args:
            raise TypeError("pass kaleido options by name")
        if not self.is_running():
            self.start(kwargs)

    def close(self, *, silence_warnings: bool = False) -> None:
        self.stop()

    def call_function(self, cmd: str, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("kopts", None)
        return self.call(cmd, args, kwargs, timeout=RENDER_TIMEOUT + CLOSE_TIMEOUT)

    # -- cube's --

    def start(self, options: dict[str, Any], timeout: float | None = None) -> None:
        """Start kaleido's browser with ``options``; within ``timeout`` s or BrowserFailedError."""
        timeout = START_TIMEOUT if timeout is None else timeout
        with self._lock:
            if self.is_running():
                if self.options == options:
                    return
                self.stop()
            _quiet_logging()
            import kaleido

            loop = asyncio.new_event_loop()
            loop.set_exception_handler(lambda _loop, _context: None)  # no "never retrieved"
            thread = threading.Thread(
                target=_run_loop, args=(loop,), name="cube-browser", daemon=True
            )
            thread.start()
            made: dict[str, Any] = {}

            async def opening() -> Any:
                made["kaleido"] = kaleido.Kaleido(n=1, timeout=RENDER_TIMEOUT, **options)
                await made["kaleido"].open()
                return made["kaleido"]

            future = asyncio.run_coroutine_threadsafe(opening(), loop)
            path = options.get("path") or "the default path"
            try:
                browser = future.result(timeout)
            except _TIMEOUTS:
                future.cancel()
                self._end(made.get("kaleido"), loop, thread, kill=True)
                raise BrowserFailedError(
                    f"the browser at {path} did not start within {timeout:g} s and was ended; "
                    f"{FAILED_HINT}"
                ) from None
            except Exception as exc:
                self._end(made.get("kaleido"), loop, thread, kill=True)
                raise BrowserFailedError(
                    f"the browser at {path} did not start ({_first_line(exc)}); {FAILED_HINT}"
                ) from exc
            except BaseException:  # Ctrl-C while waiting: leave no browser behind
                future.cancel()
                self._end(made.get("kaleido"), loop, thread, kill=True)
                raise
            self._loop, self._thread, self._kaleido = loop, thread, browser
            self.options = dict(options)

    def call(self, cmd: str, args: tuple, kwargs: dict[str, Any], *, timeout: float) -> Any:
        """Run ``Kaleido.<cmd>(*args, **kwargs)``; the browser is ended if it takes longer."""
        with self._lock:
            if not self.is_running():
                raise RuntimeError("Can't call function on stopped server.")
            browser, loop = self._kaleido, self._loop
            path = (self.options or {}).get("path") or "the default path"
            future = asyncio.run_coroutine_threadsafe(getattr(browser, cmd)(*args, **kwargs), loop)
            try:
                return future.result(timeout)
            except _TIMEOUTS:  # ours, or kaleido's own per-image limit
                future.cancel()
                self.stop(kill=True)
                raise BrowserFailedError(
                    f"the browser at {path} stopped answering while rendering figures and was "
                    f"ended; {FAILED_HINT}"
                ) from None
            except Exception as exc:
                process = getattr(browser, "subprocess", None)
                if process is not None and process.poll() is not None:
                    self.stop(kill=True)
                    raise BrowserFailedError(
                        f"the browser at {path} closed while rendering figures; {FAILED_HINT}"
                    ) from exc
                raise
            except BaseException:
                future.cancel()
                raise

    def stop(self, *, kill: bool = False) -> None:
        """Close the browser (ended at once with ``kill``, or if it does not close in time)."""
        with self._lock:
            browser, loop, thread = self._kaleido, self._loop, self._thread
            self._kaleido = self._loop = self._thread = None
            self.options = None
            if browser is not None and loop is not None and thread is not None:
                self._end(browser, loop, thread, kill=kill)

    @staticmethod
    def _end(
        browser: Any, loop: asyncio.AbstractEventLoop, thread: threading.Thread, *, kill: bool
    ) -> None:
        if kill:
            _kill_browser(browser)
        try:
            if browser is not None:

                async def closing() -> None:
                    if kill:
                        _kill_browser(browser)  # in case it was spawned after the first kill
                        # the browser's stderr feeds a logging thread; close our end of that pipe
                        pipe = getattr(browser, "_logger_pipe", None)
                        if pipe:
                            browser._logger_pipe = None
                            with contextlib.suppress(OSError):
                                os.close(pipe)
                    await browser.close()

                future = asyncio.run_coroutine_threadsafe(closing(), loop)
                try:
                    future.result(CLOSE_TIMEOUT)
                except BaseException as exc:
                    future.cancel()
                    _kill_browser(browser)
                    if not isinstance(exc, Exception):
                        raise
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(CLOSE_TIMEOUT)
            if not thread.is_alive():
                with contextlib.suppress(Exception):
                    loop.close()


server = BoundedServer()


def install() -> BoundedServer:
    """Put :data:`server` in place of kaleido's own sync server (once); returns it."""
    import kaleido

    current = kaleido._global_server
    if current is not server:
        kaleido._global_server = server
        if current.is_running():  # someone started kaleido's own: close it, without waiting long

            def close_theirs() -> None:
                with contextlib.suppress(Exception):
                    current.close(silence_warnings=True)

            closer = threading.Thread(target=close_theirs, daemon=True)
            closer.start()
            closer.join(CLOSE_TIMEOUT)
    return server
