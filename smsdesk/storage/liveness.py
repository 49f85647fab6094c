"""Whether a process of this computer still runs: the certain half of "is that sender dead?".

Claims (:func:`claimer_gone`, used by ``claims``, ``schedule`` and ``bulk_sends``) and relay
heartbeats (``relays``) both ask it. A heartbeat that stops tells the same thing only after a
delay; a process id that no longer exists tells it at once.
"""

from __future__ import annotations

import os


def host_name() -> str:
    """This computer's name, as ``socket.gethostname()`` gives it.

    Where there is ``os.uname`` (Linux, macOS) its node name is the same kernel value, read
    without importing ``socket`` (about 3 ms, before the window's first paint, which writes
    this process into the database's list of users); elsewhere ``socket`` is asked.
    """
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket

    return socket.gethostname()


def process_alive(pid: int) -> bool | None:
    """True or False for a process of this computer, None where this platform cannot tell.

    On Windows ``os.kill(pid, 0)`` does not probe: it *terminates* the process, so there
    the answer is always None and callers fall back to heartbeats.
    """
    if os.name == "nt":
        return None
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or this platform cannot tell: not dead
    return True


def claimer_alive_here(dispatcher_id: str) -> bool | None:
    """Whether the process behind a dispatcher id (``host:pid:tag``) still runs.

    None when it is not on this computer (or the id has another shape): only its heartbeat
    can tell then. A dead process id on this host is certain at once, where a missed
    heartbeat takes the dispatcher's dead-after delay to show.
    """
    parts = dispatcher_id.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host_name() or not parts[1].isdigit():
        return None
    return process_alive(int(parts[1]))


def claimer_gone(dispatcher_id: str, heartbeat: str | None, alive_since: str) -> bool:
    """Whether the dispatcher holding a claim is gone.

    - A heartbeat older than ``alive_since``: gone (or hung; its process id may even have been
      reused), whatever the process table says.
    - A fresh heartbeat: gone only when its process, on this computer, certainly is.
    - No heartbeat at all (``smsdesk send --at`` handing off to the provider runs no
      dispatcher): alive while its process on this computer runs; otherwise gone.
    """
    here = claimer_alive_here(dispatcher_id)
    if heartbeat is not None:
        return heartbeat < alive_since or here is False
    return here is not True
