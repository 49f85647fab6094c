"""Provider-side scheduling: hand a one-off scheduled send to the provider's own scheduler.

Opt-in per account (``provider_schedule = "on"`` in the account's settings) and only where
the adapter declares ``caps.schedule``. PureSMS takes ``sendAtUtc`` and can be cancelled with
``DELETE``; Mobivate takes ``scheduleDateTime`` but has no cancel, so :meth:`notice` says so
and :meth:`set_opt_in` needs the person's acknowledgement before it is switched on.

Hand-off: the messages are written as ``scheduled`` (with their send time, quiet hours
applied) and *claimed* by this process in one transaction, then sent with ``send_at``; the
provider ids are stored and the claims released. A refused hand-off falls back to local
scheduling (the item keeps its time; smsdesk sends it itself) and says why; an ambiguous one
(timeout after upload) marks the messages for review instead of risking a second copy.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from smsdesk.domain.errors import ErrorKind, InvalidInput, ProviderError, SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.domain.models import Account, OutboundMessage, SendResult
from smsdesk.domain.schedule import Recurrence, ScheduleItem, defer_for_quiet
from smsdesk.domain.segments import analyze
from smsdesk.domain.status import Status
from smsdesk.storage import messages as msg_store
from smsdesk.storage import schedule as store
from smsdesk.storage.accounts import audit, update_account
from smsdesk.storage.messages import NewOutgoing

if TYPE_CHECKING:
    from smsdesk.services.scheduler import SchedulerService

log = logging.getLogger(__name__)
ON = ("on", "1", "true", "yes")
RETRY_S = 60.0


class ProviderScheduling:
    """The provider-side half of :class:`SchedulerService` (kept apart to stay readable)."""

    def __init__(self, svc: SchedulerService) -> None:
        self.svc = svc
        self._last_try: dict[int, float] = {}

    # ---- opt-in ------------------------------------------------------------------------------
    def wanted(self, account: Account) -> bool:
        return str(account.settings.get("provider_schedule", "")).lower() in ON and self.supported(account)

    def supported(self, account: Account) -> bool:
        try:
            return self.svc.accounts.spec(account).caps.schedule
        except SmsdeskError:
            return False

    def notice(self, account: Account) -> str:
        """What a person must know before opting in (shown in the dialog and the CLI)."""
        spec = self.svc.accounts.spec(account)
        if not spec.caps.schedule:
            return f"{spec.name} has no scheduling of its own; smsdesk schedules these sends itself."
        text = (
            f"{spec.name} will hold one-off scheduled sends and send them at their time even while "
            "smsdesk is closed. Repeating sends stay in smsdesk."
        )
        if spec.caps.cancel:
            return text + f" Editing or cancelling asks {spec.name} to cancel its copy first."
        return text + (
            f" {spec.name} has NO cancel: once handed over, a scheduled send cannot be edited, "
            "paused or cancelled, and it will go at its time."
        )

    async def set_opt_in(self, account_id: int, enabled: bool, acknowledged: bool = False) -> Account:
        """Switch provider-side scheduling for an account.

        Raises:
            InvalidInput: the provider cannot schedule, or it cannot cancel and the person has
                not acknowledged that (the message is the notice to show).
        """
        account = self.svc.accounts.get(account_id)
        if enabled:
            spec = self.svc.accounts.spec(account)
            if not spec.caps.schedule:
                raise InvalidInput(self.notice(account))
            if not spec.caps.cancel and not acknowledged:
                raise InvalidInput(self.notice(account) + " Confirm to switch it on anyway.")
        return await self._set_setting(account, "provider_schedule", "on" if enabled else "off")

    async def set_quiet_hours(self, account_id: int, text: str) -> Account:
        from smsdesk.domain.schedule import QuietHours

        quiet = QuietHours.parse(text)  # raises InvalidInput with the accepted form
        return await self._set_setting(self.svc.accounts.get(account_id), "quiet_hours", quiet.text() if quiet else "")

    async def _set_setting(self, account: Account, key: str, value: str) -> Account:
        settings = dict(account.settings)
        settings[key] = value

        def write(conn: sqlite3.Connection) -> None:
            update_account(
                conn, account.id, name=account.name, base_url=account.base_url, sender=account.sender, settings=settings
            )
            audit(conn, "account." + key, account.name, value=value)

        await self.svc.db.write(write)
        self.svc.accounts.forget_adapters()
        self.svc.bus.publish(Changes(accounts=True, queue=True))
        return self.svc.accounts.get(account.id)

    def check_usable(self, account: Account, rule: Recurrence) -> None:
        if not self.supported(account):
            raise InvalidInput(self.notice(account))
        if rule.repeats:
            raise InvalidInput("Provider-side scheduling is for one-off sends; a repeating send stays in smsdesk.")

    # ---- hand-off ----------------------------------------------------------------------------
    async def hand_off(self, item: ScheduleItem) -> bool:
        """Give ``item``'s messages to the provider now; True when the provider took them."""
        svc = self.svc
        self._last_try[item.id] = time.monotonic()
        if item.next_run is None or item.state != "scheduled" or item.handed_off:
            return False
        quiet = svc.quiet_hours(item.account_id)
        news: list[NewOutgoing] = []
        for number, body in svc.repo.recipients(item.id):
            if svc.sending.optouts.is_opted_out(number):
                continue
            text = body or item.body
            info = analyze(text)
            at = defer_for_quiet(item.next_run, svc.zones(number, item.zone), quiet).at
            news.append(
                NewOutgoing(
                    item.account_id,
                    number,
                    item.sender,
                    text,
                    info.segments,
                    info.encoding,
                    Status.SCHEDULED,
                    at.isoformat(timespec="milliseconds"),
                    item.bulk_run_id,
                )
            )
        due = item.next_run.isoformat(timespec="milliseconds")

        def claim(conn: sqlite3.Connection) -> list[int] | None:
            cur = conn.execute(
                """UPDATE schedules SET claimed_by = ?, version = version + 1 WHERE id = ? AND version = ?
                     AND state = 'scheduled' AND location = 'provider' AND handed_off_at IS NULL
                     AND claimed_by IS NULL""",
                (svc.id, item.id, item.version),
            )
            if cur.rowcount != 1:
                return None
            run_id = store.start_run(conn, item.id, due, svc.id, "Handed to the provider.")
            conn.execute("UPDATE schedule_runs SET state = 'at_provider' WHERE id = ?", (run_id,))
            ids = msg_store.insert_outgoing(conn, news)
            conn.executemany("UPDATE messages SET claimed_by = ? WHERE id = ?", [(svc.id, i) for i in ids])
            store.link_messages(conn, run_id, ids)
            return ids

        ids = await svc.db.write(claim)
        if ids is None:
            return False
        msgs = svc.sending.messages.get_many(ids)
        try:
            adapter = svc.accounts.adapter(item.account_id)
            results = await self._send(
                adapter,
                [
                    OutboundMessage(
                        m.local_id, m.remote, m.local_number, m.body, datetime.fromisoformat(m.send_at or due)
                    )
                    for m in msgs
                ],
            )
        except ProviderError as exc:
            await self._failed(item, ids, exc)
            return False
        by_local = {r.local_id: r for r in results}
        name = adapter.spec.name

        def record(conn: sqlite3.Connection) -> None:
            for m in msgs:
                res = by_local.get(m.local_id)
                if res is None or res.provider_message_id is None or res.status in (Status.REJECTED, Status.FAILED):
                    err = (res.error if res else None) or f"{name} did not accept it."
                    msg_store.apply_status(conn, m.id, Status.REJECTED, "rejected", err)
                    continue
                conn.execute(
                    "UPDATE messages SET provider_message_id = ?, raw_status = ?, claimed_by = NULL WHERE id = ?",
                    (res.provider_message_id, f"scheduled at {name}", m.id),
                )
            conn.execute(
                "UPDATE schedules SET handed_off_at = ?, claimed_by = NULL, reason = ?, version = version + 1"
                " WHERE id = ?",
                (svc_now_iso(svc), f"Scheduled at {name}.", item.id),
            )

        await svc.db.write(record)
        svc.bus.publish(Changes(message_ids=set(ids), queue=True))
        return True

    async def _send(self, adapter: object, outs: list[OutboundMessage]) -> list[SendResult]:
        caps = adapter.spec.caps  # type: ignore[attr-defined]
        groups: dict[datetime | None, list[OutboundMessage]] = defaultdict(list)
        for o in outs:
            groups[o.send_at].append(o)
        results: list[SendResult] = []
        for group in groups.values():
            if len(group) > 1 and caps.bulk:
                results += await adapter.send_bulk(group)  # type: ignore[attr-defined]
            else:
                for o in group:
                    results.append(await adapter.send(o))  # type: ignore[attr-defined]
        return results

    async def _failed(self, item: ScheduleItem, ids: list[int], exc: ProviderError) -> None:
        svc = self.svc
        ambiguous = exc.kind == ErrorKind.AMBIGUOUS

        def write(conn: sqlite3.Connection) -> None:
            conn.executemany("UPDATE messages SET claimed_by = NULL WHERE id = ?", [(i,) for i in ids])
            if ambiguous:
                for mid in ids:
                    msg_store.apply_status(
                        conn,
                        mid,
                        Status.NEEDS_REVIEW,
                        "ambiguous",
                        f"The provider may or may not have scheduled this: {exc}",
                    )
                conn.execute(
                    "UPDATE schedules SET handed_off_at = ?, claimed_by = NULL, state = 'done', reason = ?,"
                    " version = version + 1 WHERE id = ?",
                    (svc_now_iso(svc), f"Hand-off unclear ({exc}); check the messages before resending.", item.id),
                )
                return
            store.cancel_messages(conn, ids, f"Not handed to the provider: {exc}")
            conn.execute(
                "UPDATE schedule_runs SET state = 'cancelled', finished_at = ?, note = ? WHERE schedule_id = ?"
                " AND state = 'at_provider'",
                (svc_now_iso(svc), f"Hand-off refused: {exc}", item.id),
            )
            conn.execute(
                "UPDATE schedules SET location = 'local', claimed_by = NULL, reason = ?, version = version + 1"
                " WHERE id = ?",
                (f"The provider refused the hand-off ({exc}); smsdesk will send it itself.", item.id),
            )

        await svc.db.write(write)
        log.info("provider hand-off of scheduled send %d failed: %s", item.id, exc)
        svc.bus.publish(Changes(message_ids=set(ids), queue=True))

    async def withdraw(self, item: ScheduleItem) -> int:
        """Cancel ``item``'s copies at the provider; returns how many were cancelled.

        Raises:
            InvalidInput: the provider has no cancel, or refused one (nothing local changed then).
        """
        svc = self.svc
        rows = svc.repo.provider_scheduled(item.id)
        if not rows:
            return 0
        adapter = svc.accounts.adapter(item.account_id)
        if not adapter.spec.caps.cancel:
            raise InvalidInput(
                f"{adapter.spec.name} cannot cancel scheduled messages: {len(rows)} will still go at their time."
            )
        done: list[int] = []
        failed: list[str] = []
        for r in rows:
            try:
                await adapter.cancel(r["provider_message_id"])
                done.append(r["id"])
            except ProviderError as exc:
                failed.append(str(exc))

        def write(conn: sqlite3.Connection) -> None:
            for mid in done:
                msg_store.apply_status(conn, mid, Status.CANCELLED, "cancelled", "Cancelled at the provider.")
            if not failed:
                conn.execute(
                    "UPDATE schedules SET handed_off_at = NULL, version = version + 1 WHERE id = ?", (item.id,)
                )
                conn.execute(
                    "UPDATE schedule_runs SET state = 'cancelled', finished_at = ? WHERE schedule_id = ?"
                    " AND state = 'at_provider'",
                    (svc_now_iso(svc), item.id),
                )

        await svc.db.write(write)
        svc.bus.publish(Changes(message_ids=set(done), queue=True))
        if failed:
            raise InvalidInput(
                f"{len(failed)} of {len(rows)} could not be cancelled at {adapter.spec.name}: {failed[0]}"
            )
        return len(done)

    async def tick(self, now: datetime) -> None:
        """Items whose time passed at the provider are done; failed hand-offs are retried."""
        svc = self.svc
        now_iso = now.isoformat(timespec="milliseconds")
        passed = svc.repo.provider_passed(now_iso)
        if passed:

            def write(conn: sqlite3.Connection) -> None:
                for sid in passed:
                    conn.execute("UPDATE schedules SET state = 'done', version = version + 1 WHERE id = ?", (sid,))
                    conn.execute(
                        "UPDATE schedule_runs SET state = 'done', finished_at = ? WHERE schedule_id = ?"
                        " AND state = 'at_provider'",
                        (now_iso, sid),
                    )

            await svc.db.write(write)
            svc.bus.publish(Changes(queue=True))
        rows = svc.db.query(
            "SELECT id FROM schedules WHERE state = 'scheduled' AND location = 'provider' AND handed_off_at IS NULL"
            " AND claimed_by IS NULL AND next_run_utc > ?",
            (now_iso,),
        )
        for r in rows:
            if time.monotonic() - self._last_try.get(r["id"], 0.0) < RETRY_S:
                continue
            try:
                await self.hand_off(svc.get(r["id"]))
            except SmsdeskError as exc:
                log.info("hand-off of %s not possible yet: %s", r["id"], exc)

    # ---- what the options dialog asks (appended: views ask the service, not its accounts) ----
    def can_cancel(self, account: Account) -> bool:
        """Whether ``account``'s provider can cancel a send it holds (else a scheduled send,
        once handed over, goes out whatever happens here)."""
        return self.svc.accounts.spec(account).caps.cancel


def svc_now_iso(svc: SchedulerService) -> str:
    return svc.clock().isoformat(timespec="milliseconds")
