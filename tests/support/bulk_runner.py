"""Run ``smsdesk`` in a child process with secrets from the environment (tests only).

The kill-and-resume test needs a real process to SIGKILL. The parent's in-memory keyring
does not reach a child, so this sets one up holding ``SMSDESK_TEST_SECRETS`` (JSON of
keyring user -> secret) and then runs the ordinary CLI with the remaining arguments.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

# Run as a script, this folder is sys.path[0], and its typing.py (the GUI tests' typing helper)
# would shadow the standard library's typing module: the repository root takes its place.
_here = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
sys.path.insert(0, str(_here.parents[1]))

import keyring  # noqa: E402

from smsdesk.cli import main  # noqa: E402
from smsdesk.config.secrets import SERVICE  # noqa: E402
from tests.support.keyring_memory import MemoryKeyring  # noqa: E402

if __name__ == "__main__":
    backend = MemoryKeyring()
    for user, secret in json.loads(os.environ.get("SMSDESK_TEST_SECRETS", "{}")).items():
        backend.set_password(SERVICE, user, secret)
    keyring.set_keyring(backend)
    sys.exit(main(sys.argv[1:]))
