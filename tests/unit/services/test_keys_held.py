"""Which accounts' keys this computer holds: asked on the event loop, read from the keyring
(a D-Bus call on Linux) only once where asked, then again in a thread of its own."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from smsdesk.runtime import Runtime
from smsdesk.services import accounts as accounts_module


def test_the_keys_held_are_read_again_off_the_callers_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = Runtime.open(str(tmp_path), session_secrets=True)
    try:
        accounts = rt.accounts
        sandbox = accounts.by_name("Sandbox")
        readers: list[str] = []
        holds = accounts.holds_keys
        keyring_answers = threading.Event()  # a slow keyring, in the background read only

        def holds_keys(account: object) -> bool:
            readers.append(threading.current_thread().name)
            if threading.current_thread() is not threading.main_thread():
                assert keyring_answers.wait(10)
            return holds(account)  # type: ignore[arg-type]

        monkeypatch.setattr(accounts, "holds_keys", holds_keys)
        accounts.session_secrets.pop(("Sandbox", "api_key"), None)
        assert accounts.held_ids() == []  # the first answer is read where it is asked
        assert readers == [threading.current_thread().name]

        accounts.session_secrets[("Sandbox", "api_key")] = "key"
        assert accounts.held_ids() == []  # kept for HELD_TTL seconds: no keyring read
        assert len(readers) == 1

        monkeypatch.setattr(accounts_module, "HELD_TTL", 0.0)
        assert accounts.held_ids() == []  # stale: the last answer stands while it is read again
        keyring_answers.set()
        deadline = time.monotonic() + 10
        while accounts.held_ids() != [sandbox.id]:
            assert time.monotonic() < deadline, "the keys held were not read again"
            time.sleep(0.01)
        assert readers[1] == "smsdesk-keys"  # in a thread of its own, not the caller's
    finally:
        rt.close()
