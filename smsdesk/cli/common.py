"""Helpers shared by CLI commands: logging to stderr, JSON to stdout, opening the runtime."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from typing import Any

from smsdesk.runtime import Runtime


class _Redact(logging.Filter):
    """Last line of defence: drop header values that carry keys if a library logs them."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        for marker in ("X-Api-Key", "Authorization", "Chan-Api-Key", "X-Webhook-Signature"):
            if marker.lower() in msg.lower():
                record.msg, record.args = f"[{record.name} message withheld: it named {marker}]", ()
        return True


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("smsdesk: %(levelname)s: %(message)s"))
    handler.addFilter(_Redact())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def error(text: str) -> None:
    print(f"smsdesk: error: {text}", file=sys.stderr)


def info(text: str) -> None:
    print(text, file=sys.stderr)


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def open_runtime(args: argparse.Namespace, *, wait_for_store: bool = False) -> Runtime:
    """The command's runtime; ``wait_for_store``: see :meth:`Runtime.open`."""
    return Runtime.open(
        getattr(args, "home", None),
        role=f"smsdesk {getattr(args, 'command', '')}".strip(),
        database=getattr(args, "database", None),
        wait_for_store=wait_for_store,
    )


def stop_event_on_signals() -> asyncio.Event:
    """An event set by Ctrl+C or SIGTERM (long-running commands wait on it)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Windows, or not the main thread: Ctrl+C still raises KeyboardInterrupt.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop
