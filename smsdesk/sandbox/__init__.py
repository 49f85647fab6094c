"""The built-in simulated SMS provider: a real HTTP server speaking providers' wire formats.

Imports nothing from the rest of smsdesk (it stands for a provider's cloud, which would not
share our code either). Runs inside the app in demo mode and standalone as ``smsdesk sandbox``.

Each wire format lives in its own module, registered here explicitly: PureSMS's at the root
(:mod:`.puresms`, also the ``sandbox`` provider's) and the others under a path prefix: ``/mobivate``
(:mod:`.mobivate`), ``/send2`` (:mod:`.send2`) and ``/channel`` (:mod:`.channel`). To see
those adapters work, point an account of that provider at ``<sandbox url>/<prefix>`` with
the sandbox's API key (each module's docstring says what else to set).
"""

from smsdesk.sandbox import channel, mobivate, puresms, send2
from smsdesk.sandbox.config import SandboxConfig
from smsdesk.sandbox.server import EXTRA_ROUTES, SandboxServer, SandboxThread

for _register in (puresms.register, mobivate.register, send2.register, channel.register):
    if _register not in EXTRA_ROUTES:
        EXTRA_ROUTES.append(_register)

__all__ = ["SandboxConfig", "SandboxServer", "SandboxThread"]
