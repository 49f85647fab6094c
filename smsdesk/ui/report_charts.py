"""A report's charts as chart data: what the Reports page shows and the PDF prints, from one place.

Plain data (no widgets): :func:`report_charts` turns a :class:`~smsdesk.services.reports.Report`
into titled :class:`~smsdesk.ui.charts.ChartData` with the kind each is drawn as.
"""

from __future__ import annotations

from dataclasses import dataclass

from smsdesk.domain.pricing import symbol
from smsdesk.services.reports import Report
from smsdesk.ui.charts.data import (
    DAY_LABEL_STEPS,
    DEFAULT_LABEL_STEPS,
    Category,
    ChartData,
    Tone,
    Unit,
    ValueFormat,
    by_hour,
    day_category,
)
from smsdesk.ui.charts.layout import ChartKind


@dataclass(frozen=True, slots=True)
class ReportChart:
    key: str
    title: str
    data: ChartData
    kind: ChartKind


def _categories(report: Report) -> tuple[list[Category], tuple[int, ...]]:
    if report.step == "day":
        return [day_category(b.first) for b in report.buckets], DAY_LABEL_STEPS
    if report.step == "week":
        cats = [
            Category(b.label.removeprefix("w/c "), f"Week of {day_category(b.first).title}") for b in report.buckets
        ]
        return cats, DEFAULT_LABEL_STEPS
    return [Category(b.first.strftime("%b %y"), b.label) for b in report.buckets], DEFAULT_LABEL_STEPS


def report_charts(report: Report) -> list[ReportChart]:
    """Messages (delivered, failed, pending stacked), cost, replies, and replies by hour of day."""
    cats, steps = _categories(report)
    per = report.step
    buckets = report.buckets
    out = [
        ReportChart(
            "messages",
            f"Messages sent per {per}",
            ChartData.build(
                cats,
                {
                    "Delivered": [b.delivered for b in buckets],
                    "Failed": [b.failed for b in buckets],
                    "Pending": [b.pending for b in buckets],
                },
                tones={"Delivered": Tone.POSITIVE, "Failed": Tone.NEGATIVE, "Pending": Tone.PENDING},
                stacked=True,
                label_steps=steps,
                empty_text="No messages were sent in this period.",
            ),
            ChartKind.BARS,
        )
    ]
    currency = report.currencies[0] if report.currencies else ""
    unknown = not currency
    title = f"Cost per {per}" + (f" ({currency})" if currency else "")
    out.append(
        ReportChart(
            "cost",
            title,
            ChartData.build(
                cats,
                {
                    "Cost": [
                        float(b.cost[currency]) if currency in b.cost else (None if b.unknown_parts else 0.0)
                        for b in buckets
                    ]
                },
                fmt=ValueFormat(Unit.MONEY, currency=symbol(currency), unknown="cost unknown"),
                label_steps=steps,
                empty_text=(
                    "Cost unknown: give the account a price per part in Settings → Accounts."
                    if unknown and any(b.unknown_parts for b in buckets)
                    else "Nothing was charged in this period."
                ),
            ),  # fmt: skip
            ChartKind.LINE,
        )
    )
    out.append(
        ReportChart(
            "replies",
            f"Replies received per {per}",
            ChartData.build(
                cats,
                {"Replies": [b.received for b in buckets]},
                tones={"Replies": Tone.POSITIVE},
                label_steps=steps,
                empty_text="No replies came in this period.",
            ),
            ChartKind.BARS,
        )
    )
    out.append(
        ReportChart(
            "hours",
            "When replies arrive (hour of the day)",
            by_hour({"Replies": list(report.reply_hours)}, empty_text="No replies came in this period."),
            ChartKind.BARS,
        )
    )
    return out
