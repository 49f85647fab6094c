"""Asks before a send goes out: to many recipients (a setting), or past opted-out numbers.

Shows how many messages, how many segments and what they may cost ("cost unknown" when the
account has no price), and names each typed number that opted out and will be skipped, with
how it opted out. Opened with ``open()`` and answered through :attr:`sig_answered`: a nested
``exec()`` loop would hang qasync.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from smsdesk.domain.pricing import money
from smsdesk.services.contacts import ContactLabel
from smsdesk.services.send import SendPlan

MAX_LISTED = 8  # skipped numbers named in the box; the rest are under "Show Details"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def cost_text(plan: SendPlan) -> str:
    """ "Estimated cost 1.12 (0.04 per segment)" or "Cost unknown: ..."."""
    if plan.estimate is None:
        return (
            "Cost unknown: this account has no price per segment (add one in Settings → Accounts to see an estimate)."
        )
    if plan.by_country:
        return f"Estimated cost {money(plan.estimate, plan.currency)} (at each country's price)."
    return f"Estimated cost {money(plan.estimate, plan.currency)} ({plan.price_per_segment:g} per segment)."


def summary_text(plan: SendPlan) -> str:
    """ "14 messages · 2 segments each, 28 in all", then the cost on a line of its own."""
    n = len(plan.numbers)
    if plan.total_segments == plan.segments * n:
        each = _plural(plan.segments, "segment")
        parts = f"{each} each, {plan.total_segments:,} in all" if n > 1 else each
    else:  # personalised texts differ in length
        parts = f"{_plural(plan.total_segments, 'segment')} in all"
    return f"{_plural(n, 'message')} · {parts}\n{cost_text(plan)}"


def skipped_lines(plan: SendPlan, labels: Mapping[str, ContactLabel]) -> list[str]:
    """One line per opted-out number: "Ann Lee (07911 123456): replied STOP on 3 Dec 2026"."""
    out = []
    for s in plan.opted_out:
        label = labels.get(s.number)
        out.append(f"{label.full if label else s.number}: {s.how}")
    return out


class SendConfirmDialog(QMessageBox):
    """``sig_answered(True)`` when the person chose to send, ``False`` when not."""

    sig_answered = Signal(bool)

    def __init__(self, plan: SendPlan, labels: Mapping[str, ContactLabel], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confirm_send")
        self.setIcon(QMessageBox.Icon.Question)
        n = len(plan.numbers)
        self.setWindowTitle(f"Send {_plural(n, 'message')}?")
        self.setTextFormat(Qt.TextFormat.PlainText)
        skipped = len(plan.opted_out)
        if skipped:
            who = "it" if skipped == 1 else "them"
            self.setText(
                f"{_plural(skipped, 'number')} you typed opted out. Send to the other {_plural(n, 'recipient')} "
                f"and skip {who}?"
            )
        else:
            self.setText(f"Send this message to {_plural(n, 'recipient')}?")
        lines = [summary_text(plan)]
        if plan.over_limit:
            self.setIcon(QMessageBox.Icon.Warning)
            lines = [f"Over the spending limit: {plan.over_limit}", "", *lines]
        listed = skipped_lines(plan, labels)
        if listed:
            lines += ["", "Skipped (opted out):"] + [f"• {line}" for line in listed[:MAX_LISTED]]
            if len(listed) > MAX_LISTED:
                lines.append(f"…and {len(listed) - MAX_LISTED:,} more (Show Details).")
                self.setDetailedText("\n".join(listed))
        self.setInformativeText("\n".join(lines))
        label = f"Send to {n:,}" if skipped else f"Send {_plural(n, 'message')}"
        if plan.over_limit:
            label += " anyway"
        self.send_button = self.addButton(label, QMessageBox.ButtonRole.AcceptRole)
        self.send_button.setObjectName("confirm_send_button")
        self.cancel_button = self.addButton(QMessageBox.StandardButton.Cancel)
        self.setDefaultButton(self.send_button)
        self.setEscapeButton(self.cancel_button)
        self.finished.connect(self._finished)

    def _finished(self, _result: int) -> None:
        # Escape or closing the window count as Cancel (clickedButton is then the escape button).
        self.sig_answered.emit(self.clickedButton() is self.send_button)
