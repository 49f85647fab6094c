"""Helpers for scheduler tests: a settable clock and runtimes opened on a shared home."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from smsdesk.runtime import Runtime


class Clock:
    """An injected clock: tests move time instead of sleeping."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def open_runtime(home: Path, clock: Clock) -> Runtime:
    rt = Runtime.open(str(home))
    rt.settings.extra["sandbox_reply_rate"] = 0.0
    rt.settings.extra["sandbox_stop_rate"] = 0.0
    rt.scheduler.clock = clock
    rt.scheduler.default_zone = lambda: "Europe/London"
    return rt


def fast_sandbox(rt: Runtime, clock: Clock | None = None) -> None:
    """Quick receipts; with ``clock``, the sandbox's "now" for provider-side scheduled sends is
    the test's clock too (else a send handed over for a day after the clock's date can be
    already due by the real date, and the sandbox sends it while the test edits it)."""
    assert rt.sandbox is not None
    if clock is not None:
        rt.sandbox.server.config.clock = lambda: clock.now.timestamp()
    rt.sandbox.server.config.dispatch_delay = 0.02
    rt.sandbox.server.config.final_delay = 0.05


def share_sandbox(owner: Runtime, other: Runtime) -> None:
    """Point ``other``'s Sandbox account at ``owner``'s running sandbox (one provider, two apps)."""
    assert owner.sandbox is not None
    account = other.accounts.by_name("Sandbox")
    cfg = owner.sandbox.server.config
    other.accounts.sandbox_url = owner.sandbox.url
    other.accounts.session_secrets[(account.name, "api_key")] = cfg.api_key
    other.accounts.session_secrets[(account.name, "webhook_secret")] = cfg.webhook_secret
    other.accounts.forget_adapters()
