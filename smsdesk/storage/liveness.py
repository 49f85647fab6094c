"""Whether a process of this computer still runs: the certain half of "is that sender dead?".

Claims (``messages.claimer_alive_here``) and relay heartbeats (``changes.live_relays``) both
ask it. A heartbeat that stops tells the same thing only after a delay; a process id that no
longer exists tells it at once.
"""

from __future__ import annotations

import os


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
