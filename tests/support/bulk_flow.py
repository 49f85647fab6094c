"""A bulk send prepared as a person takes it through the wizard's steps, up to Send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smsdesk.services.bulk_send_flow import BulkSendFlow, Step


def ready_to_send(bulk_send: Any, path: Path, account_id: int, template: str, region: str = "GB") -> BulkSendFlow:
    """``path`` loaded, mapped, validated and given ``template`` on ``account_id``: at Step.SEND."""
    wiz = BulkSendFlow(bulk_send, region)
    wiz.load(path)
    assert wiz.next() == Step.MAPPING
    assert wiz.next() == Step.VALIDATION
    wiz.validate()
    assert wiz.next() == Step.MESSAGE
    wiz.set_account(account_id)
    wiz.set_template(template)
    assert wiz.next() == Step.SEND
    return wiz
