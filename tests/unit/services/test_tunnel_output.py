"""Reading a tunnel's public URL from its output, and filling in the command line."""

from __future__ import annotations

import pytest

from smsdesk.services.tunnel import expand_command, find_public_url


@pytest.mark.parametrize(
    ("line", "url"),
    [
        (
            "2026-11-22T10:00:00Z INF |  https://seven-wise-owls.trycloudflare.com                 |",
            "https://seven-wise-owls.trycloudflare.com",
        ),
        ("INF Thank you for trying Cloudflare Tunnel. See https://developers.cloudflare.com/x/", None),
        ("your url is: https://abcd.loca.lt", "https://abcd.loca.lt"),
        ('t=2026 lvl=info msg="started tunnel" url=https://ab12.ngrok-free.app', "https://ab12.ngrok-free.app"),
        ("Forwarding https://x.example.net/base/ -> http://127.0.0.1:8080", "https://x.example.net/base"),
        ("Visit it at (it may take some time): https://a-b.trycloudflare.com.", "https://a-b.trycloudflare.com"),
        ("http://127.0.0.1:8080 only, no public URL", None),
        ("", None),
    ],
)
def test_find_public_url(line: str, url: str | None) -> None:
    assert find_public_url(line) == url


def test_expand_command_fills_local_url_and_port_without_a_shell() -> None:
    argv = expand_command("cloudflared tunnel --no-autoupdate --url {local}", "http://127.0.0.1:8123")
    assert argv == ["cloudflared", "tunnel", "--no-autoupdate", "--url", "http://127.0.0.1:8123"]
    argv = expand_command("lt --port {port} --local-host {host}", "http://127.0.0.1:8123")
    assert argv == ["lt", "--port", "8123", "--local-host", "127.0.0.1"]
    # Shell metacharacters are just arguments: nothing is interpreted.
    assert expand_command("echo {local}; rm -rf /", "http://h:1") == ["echo", "http://h:1;", "rm", "-rf", "/"]
