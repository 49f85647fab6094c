"""The import step machine without Qt (and without a database: a dry-run wizard)."""

from __future__ import annotations

import pytest

from smsdesk.domain.errors import InvalidInput
from smsdesk.services.bulk_send_flow import BulkSendFlow, Step

from .conftest import DATA


def test_steps_guard_and_move() -> None:
    wiz = BulkSendFlow(None, "GB")
    assert wiz.blocker() == "Choose a CSV, TXT or .xlsx file."
    with pytest.raises(InvalidInput):
        wiz.next()
    wiz.load(DATA / "csv/contacts_utf8.csv")
    assert wiz.next() == Step.MAPPING
    wiz.set_field(1, None)  # take the phone role away
    assert "phone numbers" in wiz.blocker()
    wiz.set_field(1, "phone")
    assert wiz.next() == Step.VALIDATION
    assert wiz.blocker() == "Check the rows first."
    report = wiz.validate()
    assert (report.rows, report.accepted, report.rejected) == (7, 5, 2)
    assert wiz.next() == Step.MESSAGE
    assert wiz.blocker() == "Choose the account to send from."
    wiz.account_id = 1
    assert wiz.blocker() == "Write the message."
    wiz.set_template("Hi {{nickname}}")
    assert "{{nickname}}" in wiz.blocker()
    wiz.set_template("Hi {{first_name|there}}, see you {{appointment}}")
    assert wiz.blocker() == ""
    assert wiz.next() == Step.SEND
    with pytest.raises(InvalidInput, match="start"):
        wiz.next()
    assert wiz.back() == Step.MESSAGE
    preview = wiz.preview(2)
    assert [p.text for p in preview] == ["Hi Alice, see you Mon 10:00", "Hi Bob, see you Tue 11:30"]
    assert preview[0].segments == 1 and preview[0].encoding == "GSM-7"


def test_generator_form_gives_the_same_report() -> None:
    a = BulkSendFlow(None)
    a.load(DATA / "import/reasons.csv")
    b = BulkSendFlow(None)
    b.load(DATA / "import/reasons.csv")
    sync = a.set_template("Hi {{first_name|there}} {{slot}}")
    steps = b.template_steps("Hi {{first_name|there}} {{slot}}")
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            stepped = stop.value
            break
    assert stepped is b.report
    assert [(i.row, i.status, i.reason, i.text, i.flags) for i in stepped.items] == [
        (i.row, i.status, i.reason, i.text, i.flags) for i in sync.items
    ]
    assert stepped.by_reason == sync.by_reason and stepped.total_segments == sync.total_segments


def test_a_cancelled_check_blocks_the_way_on(tmp_path) -> None:  # noqa: ANN001
    # Big enough to reach a cancellation check (every 2,000 rows); the person presses Stop at once.
    p = tmp_path / "big.csv"
    p.write_text("name,phone\n" + "".join(f"P{i},07400{i:06d}\n" for i in range(5000)))
    wiz = BulkSendFlow(None, "GB")
    wiz.load(p)
    wiz.step = Step.VALIDATION
    asked: list[bool] = []
    report = wiz.validate(cancelled=lambda: asked.append(True) or True)
    assert asked and not report.complete
    # every row is still accounted for: the unchecked rest are rejected as cancelled
    assert report.rows == 5000 == report.accepted + report.rejected
    assert report.by_reason == {"cancelled": 5000 - report.accepted} and 0 < report.accepted < 5000
    assert "cancelled" in wiz.blocker()
    with pytest.raises(InvalidInput, match="cancelled"):
        wiz.next()
    assert wiz.validate().complete and wiz.blocker() == ""  # checked again in full, the way is open


def test_no_accepted_rows_blocks(tmp_path) -> None:  # noqa: ANN001
    p = tmp_path / "bad.csv"
    p.write_text("name,phone\nA,12345\nB,\n")
    wiz = BulkSendFlow(None)
    wiz.load(p)
    wiz.validate()
    assert "No row can be sent" in wiz.blocker(Step.VALIDATION)
    with pytest.raises(InvalidInput, match="dry run"):
        import asyncio

        asyncio.run(wiz.start())
