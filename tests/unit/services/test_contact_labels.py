"""Who a number is, as views show it: a contact's name and the number as people write it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smsdesk.runtime import Runtime


@pytest.fixture
def rt(_isolated_home: Path) -> Iterator[Runtime]:
    runtime = Runtime.open(str(_isolated_home))
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.mark.asyncio
async def test_labels_name_a_contact_and_format_every_number(rt: Runtime) -> None:
    await rt.contacts.set_name("07911 123456", "Ann Lee")
    labels = rt.contacts.labels_for(["+447911123456", "+447911123457", "+254722000000", "+447911123456"])
    assert list(labels) == ["+447911123456", "+447911123457", "+254722000000"]
    ann = labels["+447911123456"]
    assert (ann.text, ann.full) == ("Ann Lee", "Ann Lee (07911 123456)")
    assert labels["+447911123457"].text == "07911 123457"
    assert labels["+254722000000"].full == "+254 722 000000"
    assert rt.contacts.names_for(["+447911123456", "+447911123457"]) == {"+447911123456": "Ann Lee"}


def test_numbers_follow_the_default_country(rt: Runtime) -> None:
    assert rt.contacts.number_text("+254722000000") == "+254 722 000000"
    rt.settings.default_region = "KE"
    assert rt.contacts.number_text("+254722000000") == "0722 000000"
    assert rt.contacts.number_text("+447911123456") == "+44 7911 123456"
