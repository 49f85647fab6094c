"""This process's webhook receiver: where it listens, and why it does not when it cannot.

The receiver (:mod:`smsdesk.receiver`) runs on a thread of its own. It listens on the port kept
in the settings, so webhook URLs (and tunnels pointing at them) stay valid across restarts.
When that port is taken (another smsdesk on this data folder, the window beside ``smsdesk
serve``), this process still needs a receiver of its own for its own sandbox: it listens on any
free port for this run. A receiver that cannot listen at all is not fatal: :attr:`error` says
why, in words, and everything that does not need incoming webhooks keeps working.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from smsdesk.config.settings import Settings
from smsdesk.receiver.types import is_loopback
from smsdesk.services.webhook_intake import WebhookIntakeService

if TYPE_CHECKING:
    # Imported in start(): it pulls in aiohttp.web, which the window does not need to show.
    from smsdesk.receiver.receiver import ReceiverThread

log = logging.getLogger(__name__)


class ReceiverHost:
    """Starts and stops the receiver thread; answers where it listens."""

    def __init__(self, settings: Settings, intake: WebhookIntakeService) -> None:
        self._settings = settings
        self._intake = intake
        self.thread: ReceiverThread | None = None
        self.url = ""  # where it listens now, or ""
        self.error = ""  # why it does not, or ""

    def base_url(self) -> str:
        """The base of this process's webhook URLs (the kept port before the receiver starts)."""
        return self.thread.url if self.thread is not None else f"http://127.0.0.1:{self._settings.receiver_port}"

    @property
    def running(self) -> bool:
        return self.thread is not None

    def start(self) -> None:
        from smsdesk.receiver.receiver import ReceiverThread

        host = self._settings.receiver_host or "127.0.0.1"
        if not is_loopback(host):
            # An explicit setting (receiver_host): the listener is then reachable from the LAN/VPN.
            log.warning("the webhook receiver listens on %s, reachable from other computers", host)
        port = self._settings.receiver_port
        try:
            try:
                self.thread = ReceiverThread(self._intake, host, port)
                self.url = self.thread.start()
            except OSError:
                self.thread = ReceiverThread(self._intake, host, 0)
                self.url = self.thread.start()
                log.info("receiver port %s busy; listening on %s", port, self.url)
            self.error = ""
        except OSError as exc:
            self.thread = None
            self.url = ""
            self.error = f"The webhook receiver could not listen on {host}: {exc}"
            log.error(self.error)

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.stop()  # a few ms; a QThread executor under qasync is not worth it
            self.thread = None
