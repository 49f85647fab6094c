"""``smsdesk serve`` as the headless relay: tunnel up, a reply recorded in the shared database,
and on SIGTERM the tunnel's whole process group is gone."""

from __future__ import annotations

import os
import shlex
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from smsdesk.config.paths import resolve
from smsdesk.config.settings import Settings
from smsdesk.storage.db import Database
from tests.support.serve_proc import sandbox_url as serve_sandbox_url
from tests.support.serve_proc import start_serve

FAKE = Path(__file__).resolve().parents[1] / "support" / "fake_tunnel.py"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _wait(predicate, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met")


def test_serve_runs_tunnel_and_records_what_arrives(_isolated_home: Path, tmp_path: Path) -> None:
    paths = resolve(str(_isolated_home)).ensure()
    pidfile = tmp_path / "pids"
    settings = Settings(
        tunnel_kind="command",
        tunnel_command=" ".join(
            shlex.quote(a) for a in (sys.executable, str(FAKE), "--url", "{local}", "--pidfile", str(pidfile))
        ),
    )
    settings.extra["sandbox_reply_rate"] = 0.0
    settings.save(paths.settings)
    proc, lines = start_serve(_isolated_home)
    try:
        text = "\n".join(lines)
        assert "Tunnel (command): up https://fake-" in text, text
        sandbox_url = serve_sandbox_url(lines)
        # A phone replies; the sandbox (PureSMS format) calls serve's receiver, signed.
        r = httpx.post(f"{sandbox_url}/_sandbox/inbound", json={"from": "+447911123456", "body": "See you at 8"})
        assert r.status_code == 200
        db = Database(paths.database)
        try:
            row = _wait(lambda: db.query_one("SELECT body, remote, status FROM messages WHERE direction = 'in'"))
            assert tuple(row) == ("See you at 8", "+447911123456", "received")
        finally:
            db.close()
        pids = [int(p) for p in pidfile.read_text().split()]
        assert all(_alive(p) for p in pids)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        _wait(lambda: not any(_alive(p) for p in pids), 15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


@pytest.mark.asyncio
async def test_a_second_process_sees_what_the_relay_records_and_leaves_polling_to_it(_isolated_home: Path) -> None:
    """The relay and a GUI's runtime on one database, in-process (each has its own database
    connections and event bus, as two processes would)."""
    import asyncio

    from smsdesk.domain.events import Changes
    from smsdesk.domain.models import InboundMessage
    from smsdesk.runtime import Runtime
    from tests.support.wait import until

    relay = Runtime.open(str(_isolated_home))
    relay.settings.extra["sandbox_reply_rate"] = 0.0
    await relay.start(sandbox=True, polling=False, relay=True)
    gui = Runtime.open(str(_isolated_home))
    gui.watch.every = 0.05
    seen: list[Changes] = []
    gui.bus.subscribe(seen.append)
    try:
        await gui.start(sandbox=False, dispatcher=False, polling=False)  # should_poll says what it would do
        mob = await gui.accounts.add("Mob", "mobivate", {"api_key": "k", "sender": "Shop"})
        polled, why = gui.polling.should_poll(mob)
        assert not polled and why.startswith("smsdesk serve (pid ") and why.endswith("on this computer polls it")
        srv = relay.sandbox.server  # type: ignore[union-attr]
        # A phone replies; the relay's receiver stores it and the relay processes it.
        assert await asyncio.to_thread(
            relay.sandbox.call, srv._post_inbound("+447911123456", srv.config.inbound_number, "See you at 8")
        )  # type: ignore[union-attr]
        reply = await until(lambda: gui.sending.messages.recent(direction="in"))
        await until(lambda: any(reply[0].id in ch.inbound_ids for ch in seen))  # the GUI notifies it
        conv = gui.conversations.find(relay.accounts.by_name("Sandbox").id, "+447911123456")
        assert conv is not None and conv.unread == 1
        await until(lambda: any(ch.webhooks for ch in seen))  # and its webhook log refreshes
        # The GUI's own replies are announced once, by the service that stored them.
        [own] = await gui.inbound.store_inbound(
            mob.id, [InboundMessage("mo-1", "+447911000111", "+447700900999", "Hi")]
        )
        await asyncio.sleep(0.3)
        gui.watch.check()
        assert sum(own in ch.inbound_ids for ch in seen) == 1
        # The relay stops: the GUI polls again, without waiting for the heartbeat to age.
        await relay.stop()
        await until(lambda: gui.polling.should_poll(mob)[0])
    finally:
        await gui.stop()
        gui.close()
        await relay.stop()
        relay.close()


def test_serve_runs_a_tunnel_command_given_on_the_command_line(_isolated_home: Path) -> None:
    paths = resolve(str(_isolated_home)).ensure()
    before = Settings.load(paths.settings).tunnel_kind
    command = " ".join(shlex.quote(a) for a in (sys.executable, str(FAKE), "--url", "{local}"))
    proc, lines = start_serve(_isolated_home, "--no-sandbox", "--tunnel-command", command)
    try:
        text = "\n".join(lines)
        assert "Tunnel (command): up https://fake-" in text, text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        # For that run only: the settings the GUI reads still say what they said.
        assert Settings.load(paths.settings).tunnel_kind == before
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
