"""Reports from a database filled with known messages match figures worked out by hand.

The period is 28-30 March 2026 in Europe/London, across the change to summer time (29 March
is 23 hours long), with messages that changed status after the period ended, a reply within
7 days, a staff answer, an opt-out, two currencies and messages just outside each edge.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from smsdesk.config.settings import Settings
from smsdesk.services.reports import PeriodKind, ReportService, duration_text, period
from smsdesk.storage.db import Database
from smsdesk.storage.reports import ReportRepository
from tests.support.report_data import Ledger

A_NUM = "+447700900001"


@pytest.fixture
def filled(db: Database, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    led = Ledger(db, monkeypatch)
    gbp = led.account("Salon", "0.04", "GBP")
    usd = led.account("Salon US", "0.05", "USD")
    ids = {"gbp": gbp, "usd": usd}
    led.send(gbp, "+447700900009", "2026-03-27T23:59")  # 27 Mar local: before the period
    ids["first"] = led.send(gbp, A_NUM, "2026-03-28T23:30", parts=2)  # 28 Mar 23:30 GMT
    led.receive(gbp, A_NUM, "2026-03-29T09:00")  # 10:00 BST: a reply to it (within 7 days)
    led.send(gbp, A_NUM, "2026-03-29T09:20")  # a person answers 20 minutes later
    led.send(gbp, "+447700900003", "2026-03-29T12:00", "failed", error="Number not in service")
    ids["late"] = led.send(gbp, "+447700900004", "2026-03-29T12:05", "sent")
    led.opt_out("+447700900004", "2026-03-29T15:00")
    led.send(gbp, "+447700900002", "2026-03-29T23:30")  # 00:30 BST on 30 Mar
    led.send(usd, "+15555550100", "2026-03-30T10:00", parts=3)
    led.send(gbp, "+447700900006", "2026-03-30T11:00", "sent")  # still waiting
    led.send(gbp, "+447700900007", "2026-03-30T12:00", "cancelled")  # never sent
    led.send(gbp, "+447700900008", "2026-03-30T23:10")  # 31 Mar 00:10 BST: after the period
    led.receive(gbp, "+447700900003", "2026-04-10T09:00")  # 12 days later: not a reply
    led.set_status(ids["late"], "delivered")  # the receipt came after the period ended
    return ids


def _service(db: Database) -> ReportService:
    return ReportService(ReportRepository(db), Settings(business_zone="Europe/London", business_name="Bella"))


def test_a_report_across_the_change_to_summer_time_matches_the_hand_count(db: Database, filled: dict[str, int]) -> None:
    svc = _service(db)
    p = period(PeriodKind.CUSTOM, date(2026, 4, 20), date(2026, 3, 28), date(2026, 3, 30))
    assert svc.bounds(p) == ("2026-03-28T00:00:00.000+00:00", "2026-03-30T23:00:00.000+00:00")
    r = svc.build(p)
    h = r.headline
    assert (h.sent, h.parts, h.delivered, h.failed, h.pending) == (7, 10, 5, 1, 1)
    assert h.delivered_rate == pytest.approx(5 / 6)
    assert (h.received, h.replied, h.delivered_by_people) == (1, 1, 5)
    assert h.reply_rate == pytest.approx(0.2)
    assert h.cost.by_currency == {"GBP": Decimal("0.28"), "USD": Decimal("0.15")}  # never summed
    assert h.cost.unknown_parts == 0
    assert h.cost.text == "£0.28 + $0.15"
    assert (h.median_answer_s, h.answers, duration_text(h.median_answer_s)) == (1200, 1, "20 min")
    assert h.new_optouts == 1
    assert [(b.first.day, b.delivered, b.failed, b.pending, b.received) for b in r.buckets] == [
        (28, 1, 0, 0, 0),
        (29, 2, 1, 0, 1),  # the 23-hour day: 00:30 BST on the 30th is not in it
        (30, 2, 0, 1, 0),
    ]
    assert [b.cost for b in r.buckets] == [
        {"GBP": Decimal("0.08")},
        {"GBP": Decimal("0.12")},
        {"GBP": Decimal("0.08"), "USD": Decimal("0.15")},
    ]
    assert r.reply_hours[10] == 1 and sum(r.reply_hours) == 1  # 09:00 UTC is 10:00 in summer time
    assert [(f.reason, f.messages) for f in r.failures] == [("Number not in service", 1)]


def test_one_account_and_a_price_nobody_set(
    db: Database, filled: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = _service(db)
    led = Ledger(db, monkeypatch)
    free = led.account("No price")
    led.send(free, "+447700900011", "2026-03-29T10:00", parts=2)
    p = period(PeriodKind.CUSTOM, date(2026, 4, 1), date(2026, 3, 28), date(2026, 3, 30))
    only_usd = svc.build(p, filled["usd"]).headline
    assert (only_usd.sent, only_usd.cost.by_currency) == (1, {"USD": Decimal("0.15")})
    unknown = svc.build(p, free).headline
    assert unknown.cost.by_currency == {} and unknown.cost.unknown_parts == 2
    assert unknown.cost.text == "cost unknown"  # never 0
    everyone = svc.build(p).headline
    assert everyone.cost.text == "£0.28 + $0.15 (+ 2 parts at an unknown price)"


def test_an_empty_period_says_so(db: Database, filled: dict[str, int]) -> None:
    r = _service(db).build(period(PeriodKind.CUSTOM, date(2026, 5, 1), date(2026, 1, 5), date(2026, 1, 6)))
    assert r.is_empty
    assert r.headline.delivered_rate is None and r.headline.reply_rate is None
    assert r.headline.cost.text == "0.00"


def test_all_time_starts_at_the_first_message_and_goes_by_week_when_long(db: Database, filled: dict[str, int]) -> None:
    r = _service(db).build(period(PeriodKind.ALL, date(2026, 6, 30)))
    assert r.buckets[0].first == date(2026, 3, 23)  # the Monday of the week of 27 March
    assert r.step == "week"
    assert sum(b.delivered for b in r.buckets) == 7  # 27 and 31 March count too


def test_periods_in_words() -> None:
    today = date(2026, 3, 10)
    assert period("7d", today).text == "4 Mar 2026 to 10 Mar 2026"
    assert period("last-month", today).first == date(2026, 2, 1)
    assert period("last-month", today).last == date(2026, 2, 28)
    assert period("this-month", today).first == date(2026, 3, 1)
    with pytest.raises(ValueError, match="ends .* before it starts"):
        period("custom", today, date(2026, 3, 5), date(2026, 3, 1))


def test_the_hourly_totals_always_match_the_messages(db: Database, filled: dict[str, int]) -> None:
    # Kept by triggers: inserts, status changes, a provider's own part count, deletions.
    first = filled["first"]
    db.write_sync(lambda c: c.execute("UPDATE messages SET parts_billed = 5 WHERE id = ?", (first,)))
    db.write_sync(lambda c: c.execute("DELETE FROM messages WHERE remote = '+447700900006'"))
    kept = [
        tuple(r)
        for r in db.query(
            """SELECT hour, account_id, direction, status, auto, currency, price, messages, parts, replied
               FROM report_hours WHERE messages > 0 ORDER BY 1, 2, 3, 4, 5, 6, 7"""
        )
    ]
    counted = [
        tuple(r)
        for r in db.query(
            """SELECT substr(created_at, 1, 13), account_id, direction, status, auto_rule_id IS NOT NULL, currency,
                      coalesce(price_per_part, ''), count(*), sum(coalesce(parts_billed, segments, 1)),
                      sum(reply_id IS NOT NULL)
               FROM messages GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7"""
        )
    ]
    assert kept == counted and len(kept) > 8
    h = _service(db).build(period(PeriodKind.CUSTOM, date(2026, 4, 1), date(2026, 3, 28), date(2026, 3, 30))).headline
    assert (h.parts, h.pending) == (12, 0)  # 5 parts billed instead of 2; the waiting one is gone
