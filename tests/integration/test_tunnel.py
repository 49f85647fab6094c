"""The tunnel service with a fake tunnel command (and a fake ngrok module)."""

from __future__ import annotations

import os
import shlex
import sys
import types
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from smsdesk.runtime import Runtime
from smsdesk.services.tunnel import NGROK_TOKEN_KEY, TunnelState
from tests.support.wait import until

FAKE = Path(__file__).resolve().parents[1] / "support" / "fake_tunnel.py"


def fake_command(*extra: str) -> str:
    return " ".join(shlex.quote(a) for a in (sys.executable, str(FAKE), "--url", "{local}", *extra))


@pytest_asyncio.fixture
async def rt(_isolated_home: Path) -> AsyncIterator[Runtime]:
    rt = Runtime.open(str(_isolated_home))
    rt.tunnel.backoff_start = 0.2
    try:
        yield rt
    finally:
        await rt.stop()
        rt.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.asyncio
async def test_command_tunnel_gives_each_account_its_public_webhook_url(rt: Runtime) -> None:
    rt.settings.tunnel_kind = "command"
    rt.settings.tunnel_command = fake_command()
    await rt.start(sandbox=False, dispatcher=False, polling=False)
    mobi = await rt.accounts.add("Mobi", "mobivate", {"api_key": "k", "sender": "Shop"})
    await until(lambda: rt.tunnel.status.state == TunnelState.UP)
    public = rt.tunnel.status.public_url
    assert public.startswith("https://fake-") and public.endswith(".trycloudflare.com")
    # The docs link cloudflared prints first is not taken for the tunnel.
    assert "developers.cloudflare.com" not in public
    url = rt.accounts.webhook_url(mobi, public=True)
    assert url == f"{public}/hooks/{mobi.id}?token={mobi.settings['webhook_token']}"
    # The command was told where the receiver listens.
    assert any(rt.receiver.url in line for line in rt.tunnel.status.output)  # type: ignore[union-attr]
    # With the provider able to call in, this webhook-capable account is not polled.
    assert rt.tunnel.is_up(mobi.id)
    await rt.polling.poll_once()
    assert rt.polling.state[mobi.id].active is False


@pytest.mark.asyncio
async def test_dropped_tunnel_is_restarted_and_stop_kills_the_process_group(rt: Runtime, tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    rt.settings.tunnel_kind = "command"
    rt.settings.tunnel_command = fake_command("--die-after", "0.6", "--pidfile", str(pidfile))
    states: list[str] = []
    down_errors: list[str] = []

    def seen(st) -> None:  # type: ignore[no-untyped-def]
        states.append(st.state.value)
        if st.state == TunnelState.DOWN:
            down_errors.append(st.error)

    rt.tunnel.on_change(seen)
    await rt.start(sandbox=False, dispatcher=False, polling=False)
    await until(lambda: rt.tunnel.status.restarts >= 1 and rt.tunnel.status.state == TunnelState.UP, timeout=20)
    assert states[:3] == ["starting", "up", "down"]
    # What the panel showed while it was down: the command's exit, in words.
    assert down_errors and down_errors[0] == "The tunnel command exited (code 1)."
    # Now a tunnel that stays up: stop() must end it and the helper it started.
    await rt.tunnel.stop()
    rt.settings.tunnel_command = fake_command("--pidfile", str(pidfile))
    pidfile.unlink()
    await rt.tunnel.start()
    await until(lambda: rt.tunnel.status.state == TunnelState.UP and pidfile.exists() and pidfile.read_text())
    pids = [int(p) for p in pidfile.read_text().split()]
    assert all(_alive(p) for p in pids)
    await rt.tunnel.stop()
    assert rt.tunnel.status.state == TunnelState.OFF and rt.accounts.public_base == {}
    await until(lambda: not any(_alive(p) for p in pids))


@pytest.mark.asyncio
async def test_command_that_exits_without_a_url_is_down_with_its_words(rt: Runtime) -> None:
    script = "import sys; print('error: unknown flag --urll', file=sys.stderr); sys.exit(3)"
    rt.settings.tunnel_kind = "command"
    rt.settings.tunnel_command = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"
    rt.tunnel.backoff_start = 30  # stay down for the assertion
    await rt.start(sandbox=False, dispatcher=False, polling=False)
    await until(lambda: rt.tunnel.status.state == TunnelState.DOWN)
    assert "code 3" in rt.tunnel.status.error and "unknown flag" in rt.tunnel.status.error
    assert not rt.tunnel.is_up()


@pytest.mark.asyncio
async def test_command_that_never_shows_a_url_times_out(rt: Runtime) -> None:
    rt.settings.tunnel_kind = "command"
    rt.settings.tunnel_command = fake_command("--silent")
    rt.tunnel.url_timeout = 0.5
    rt.tunnel.backoff_start = 30
    await rt.start(sandbox=False, dispatcher=False, polling=False)
    await until(lambda: rt.tunnel.status.state == TunnelState.DOWN)
    assert "no https URL" in rt.tunnel.status.error


@pytest.mark.asyncio
async def test_missing_command_binary_is_reported(rt: Runtime) -> None:
    rt.settings.tunnel_kind = "command"
    rt.settings.tunnel_command = "cloudflared-not-installed-here tunnel --url {local}"
    rt.tunnel.backoff_start = 30
    await rt.start(sandbox=False, dispatcher=False, polling=False)
    await until(lambda: rt.tunnel.status.state == TunnelState.DOWN)
    assert "Could not start 'cloudflared-not-installed-here'" in rt.tunnel.status.error


@pytest.mark.asyncio
async def test_ngrok_not_installed_says_how_to_install(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ngrok", None)  # import ngrok -> ImportError
    rt.settings.tunnel_kind = "ngrok"
    await rt.start(sandbox=False, dispatcher=False, polling=False)
    await until(lambda: rt.tunnel.status.state == TunnelState.DOWN)
    assert "pip install 'smsdesk[ngrok]'" in rt.tunnel.status.error
    assert rt.tunnel.status.restarts == 0  # restarting cannot install it


@pytest.mark.asyncio
async def test_ngrok_uses_the_keyring_token(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, object]] = []

    class Listener:
        def url(self) -> str:
            return "https://abc123.ngrok-free.app"

    def forward(addr: str, **options: object) -> Listener:
        calls.append(("forward", (addr, options.get("authtoken"))))
        return Listener()

    fake = types.SimpleNamespace(forward=forward, disconnect=lambda url: calls.append(("disconnect", url)))
    monkeypatch.setitem(sys.modules, "ngrok", fake)
    rt.settings.tunnel_kind = "ngrok"
    assert not rt.tunnel.has_ngrok_token()
    rt.tunnel.set_ngrok_token("2abcTOKEN")
    assert rt.secrets.get(NGROK_TOKEN_KEY) == "2abcTOKEN"
    await rt.start(sandbox=False, dispatcher=False, polling=False)
    await until(lambda: rt.tunnel.status.state == TunnelState.UP)
    assert rt.tunnel.status.public_url == "https://abc123.ngrok-free.app"
    host_port = rt.receiver.url.removeprefix("http://")  # type: ignore[union-attr]
    assert calls == [("forward", (host_port, "2abcTOKEN"))]
    await rt.tunnel.stop()
    assert calls[-1] == ("disconnect", "https://abc123.ngrok-free.app")


def _fake_ngrok(calls: list[tuple[str, object]], alive: dict[str, bool]) -> types.SimpleNamespace:
    """The SDK's surface smsdesk uses: forward, get_listeners, disconnect."""
    made: list[str] = []

    class Listener:
        def __init__(self, url: str) -> None:
            self._url = url

        def url(self) -> str:
            return self._url

    def forward(addr: str, **options: object) -> Listener:
        made.append(f"https://n{len(made)}.ngrok-free.app")
        calls.append(("forward", made[-1]))
        alive[made[-1]] = True
        return Listener(made[-1])

    def get_listeners() -> list[Listener]:
        return [Listener(u) for u, up in alive.items() if up]

    def disconnect(url: str) -> None:
        calls.append(("disconnect", url))
        alive[url] = False

    return types.SimpleNamespace(forward=forward, get_listeners=get_listeners, disconnect=disconnect)


@pytest.mark.asyncio
async def test_a_dropped_ngrok_listener_goes_down_and_is_restarted(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, object]] = []
    alive: dict[str, bool] = {}
    monkeypatch.setitem(sys.modules, "ngrok", _fake_ngrok(calls, alive))
    rt.settings.tunnel_kind = "ngrok"
    rt.tunnel.set_ngrok_token("2abcTOKEN")
    rt.tunnel.ngrok_check_s = 0.05
    downs: list[str] = []
    rt.tunnel.on_change(lambda st: downs.append(st.error) if st.state == TunnelState.DOWN else None)
    await rt.start(sandbox=False, dispatcher=False, polling=False)
    await until(lambda: rt.tunnel.status.public_url == "https://n0.ngrok-free.app")
    alive["https://n0.ngrok-free.app"] = False  # the session lost it (agent killed, token revoked...)
    await until(lambda: rt.tunnel.status.public_url == "https://n1.ngrok-free.app", timeout=15)
    assert rt.tunnel.status.state == TunnelState.UP and rt.tunnel.status.restarts == 1
    assert downs and "dropped" in downs[0]
    assert ("disconnect", "https://n0.ngrok-free.app") in calls  # the old one is closed before the new


@pytest.mark.asyncio
async def test_ngrok_token_from_the_environment_for_a_headless_relay(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, object]] = []
    fake = _fake_ngrok(calls, {})
    tokens: list[object] = []
    forward = fake.forward
    fake.forward = lambda addr, **o: (tokens.append(o.get("authtoken")), forward(addr, **o))[1]
    monkeypatch.setitem(sys.modules, "ngrok", fake)
    monkeypatch.setenv("SMSDESK_SECRET_NGROK_AUTHTOKEN", "2envTOKEN")
    rt.settings.tunnel_kind = "ngrok"
    assert rt.tunnel.has_ngrok_token()
    await rt.start(sandbox=False, dispatcher=False, polling=False)
    await until(lambda: rt.tunnel.status.state == TunnelState.UP)
    assert tokens == ["2envTOKEN"]
