"""Which receiver hosts count as 'only this computer'."""

from __future__ import annotations

import pytest

from smsdesk.receiver.receiver import is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.10", "10.0.0.5", "myhost.lan"])
def test_hosts_reachable_from_elsewhere(host: str) -> None:
    assert not is_loopback(host)
