"""What every view receives: the services (through the runtime) and the Qt bridge."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smsdesk.runtime import Runtime
from smsdesk.ui.aio import BusBridge


@dataclass
class UiContext:
    rt: Runtime
    bridge: BusBridge
    extras: dict[str, Any] = field(default_factory=dict)
