"""The built-in simulated SMS provider: a real HTTP server speaking providers' wire formats.

Imports nothing from the rest of smsdesk (it stands for a provider's cloud, which would not
share our code either). Runs inside the app in demo mode and standalone as ``smsdesk sandbox``.
"""

from smsdesk.sandbox.server import SandboxConfig, SandboxServer, SandboxThread

__all__ = ["SandboxConfig", "SandboxServer", "SandboxThread"]
