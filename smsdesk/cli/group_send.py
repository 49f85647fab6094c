"""``smsdesk send --group NAME``: a group's members now, through the same bulk path as
``smsdesk import`` (validation, opt-outs and duplicates removed with reasons, run report)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

from smsdesk.cli import import_cmd
from smsdesk.cli.common import info
from smsdesk.domain.errors import InvalidInput
from smsdesk.runtime import Runtime
from smsdesk.services.bulk_send_flow import BulkSendFlow


def send_to_group(rt: Runtime, args: argparse.Namespace, text: str, when: datetime | None) -> int:
    account = rt.accounts.by_name(args.account)
    group = rt.groups.by_name(args.group)
    resolved = rt.groups.resolve([group.id])
    for left in resolved.removed:
        info(f"Left out {left.contact.shown_name}: {left.reason}.")
    if not resolved.recipients:
        raise InvalidInput(f"No one in '{group.name}' can be texted now (see above). Nothing was sent.")
    wiz = BulkSendFlow(rt.bulk_send, rt.settings.default_region or "GB")
    wiz.load_recipients(resolved.recipients, f"group {group.name}")
    wiz.set_account(account.id)
    wiz.set_template(text)
    # import_cmd's --group means "save the recipients as a group": nothing to save here.
    ns = argparse.Namespace(**{**vars(args), "group": None})
    return asyncio.run(import_cmd._send(rt, ns, wiz, when))
