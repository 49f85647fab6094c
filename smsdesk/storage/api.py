"""The storage surface: what services may ask of a store, whichever database is behind it.

Services receive the repositories below (one ``Protocol`` each; the address book's and reports'
in their own modules) and nothing else from storage: no connection, no row, no SQL. Values
crossing this line are in :mod:`smsdesk.storage.records`. The composition root opens a
:class:`Store` (today ``SqliteStore``: one SQLite file, a writer thread with group commit,
per-thread readers); a second backend (a team workspace) implements the same protocols.

Conventions every backend keeps:

- A plain method reads, on the calling thread (it may be a worker thread; SQLite gives each
  thread its own read connection). An ``async`` method is one write transaction: it returns
  after COMMIT, so "returned" means on disk, and it either happens whole or not at all. A
  write that must block (start-up, the moment the window closes) says so in its name or
  docstring.
- One method is one use case: the audit line, the opt-out it implies, the parked receipts it
  releases are written in the same transaction as the change itself (``AuditEntry``
  arguments), never in a second call.

What a second backend must honour (the SQLite one does today):

- **Check-then-act is one statement.** Every method that decides from the current state and
  changes it (claim a due row, move a status forward only, claim a review check, swap a
  backup note, cancel a schedule that is not handing off) is one conditional ``UPDATE ...
  WHERE <the state it expects>`` (or ``INSERT ... ON CONFLICT DO NOTHING``) whose row count
  says who won. Two processes share one database (the window and ``smsdesk serve``); a read
  followed by a separate write would let both win.
- **Claims are exclusive and skip what others hold.** ``ClaimStore.claim_groups`` takes
  only rows that are queued, unclaimed and due, in one statement, and returns exactly the rows
  it took. On PostgreSQL that is ``SELECT ... FOR UPDATE SKIP LOCKED`` (or an
  ``UPDATE ... RETURNING`` over such a subquery): a row another dispatcher is claiming is
  skipped, not waited for. Liveness is by heartbeat (``ClaimStore.heartbeat``), never by a
  held lock or connection.
- **before_commit taps run inside the transaction.** ``InboundStore.store_replies`` and
  ``apply_events`` call ``before_commit(ids)`` with the new reply ids after the rows are
  written and before COMMIT, on the writing thread. The change watch relies on it: it must
  know this process's own replies before another reader can see them, or a reply would be
  announced twice.
- **One failing item does not undo its batch.** ``InboundStore.apply_events`` applies each
  stored webhook event in its own savepoint (a nested transaction) and reports the ones that
  failed; the rest commit. ``WebhookEventStore.submit_deliveries`` stores a micro-batch of
  deliveries in one transaction.
- **Group commit caps savepoints.** The SQLite writer runs every write waiting in its queue in
  one transaction, each in its own savepoint, at most 512 per COMMIT (and ``apply_events`` takes
  at most 500 events per call, one savepoint each). On PostgreSQL more than 64 savepoints in one
  transaction overflow the per-session subtransaction cache and slow every session: a backend
  that batches there caps a transaction at 64 savepoints (split ``apply_events`` batches alike).
- **What changed is announced from the store.** ``ChangeFeed`` tells a process what others
  committed. PostgreSQL's ``NOTIFY`` is a doorbell, not a delivery (payload under 8,000 bytes,
  lost while disconnected, not passed through transaction poolers): read what changed from a
  change log after each notification and after every reconnect.
- **Nothing is lost on a crash.** A write returns only after it is durable (SQLite:
  ``synchronous=FULL``; PostgreSQL: ``synchronous_commit`` on). The webhook receiver answers
  a provider 2xx only after ``submit_deliveries`` resolved.

This module imports ``records`` and ``domain`` only: it is the part of storage a service may
import.
"""

from __future__ import annotations

import builtins  # ConversationStore has a ``list`` method, which shadows the type there
import concurrent.futures
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from smsdesk.storage.address_book_api import ContactStore as ContactStore
from smsdesk.storage.address_book_api import GroupStore as GroupStore
from smsdesk.storage.address_book_api import TemplateStore as TemplateStore
from smsdesk.storage.report_api import ReportStore as ReportStore
from smsdesk.storage.schedule_api import ScheduleStore as ScheduleStore
from smsdesk.storage.team_api import RelayRequestStore as RelayRequestStore
from smsdesk.storage.team_api import TeamInboxStore as TeamInboxStore

if TYPE_CHECKING:  # annotations only: importing the surface costs no record or domain module
    from smsdesk.domain.autoreply import Rule
    from smsdesk.domain.models import Account, Message, SendResult, StatusEvent
    from smsdesk.storage.records import (
        AppliedEvents,
        AuditEntry,
        AuditRecord,
        AutoReplyGuards,
        BackupFacts,
        BatchMessage,
        BatchRow,
        BulkReject,
        ClaimedMessage,
        ClaimGroups,
        ClaimResult,
        ConversationRow,
        ListFilter,
        Marks,
        NewAccount,
        NewDelivery,
        NewInbound,
        NewItem,
        NewOutgoing,
        NewRun,
        OpenSend,
        OptOutEntry,
        OutboxRow,
        ParsedEvent,
        RecordedBatch,
        RunRow,
        SearchRow,
        SpendCap,
        StoredEvent,
        StoredReplies,
        Transition,
        WebhookLogLine,
    )

# Told the ids of replies being stored, inside the writing transaction (before COMMIT).
ReplyTap = Callable[[set[int]], None]


class AccountStore(Protocol):
    """Accounts (non-secret fields; secrets live in the keyring) and the audit log."""

    def all(self, include_removed: bool = False) -> list[Account]: ...
    def get(self, account_id: int) -> Account | None: ...
    def by_name(self, name: str) -> Account | None: ...
    def audit_entries(self, limit: int = 200) -> list[AuditRecord]: ...

    async def add(self, new: NewAccount) -> int:
        """Raises InvalidInput when the name is taken."""
        ...

    async def update(
        self,
        account_id: int,
        *,
        name: str,
        base_url: str,
        sender: str,
        settings: dict[str, Any],
        audit: AuditEntry | None = None,
    ) -> None:
        """Raises InvalidInput when the new name is taken; ``audit``: a line besides account.edit."""
        ...

    async def remove(self, account_id: int) -> None:
        """Messages stay (the account is kept hidden); its unsent messages are cancelled."""
        ...

    def replace_settings(self, updates: dict[int, dict[str, Any]]) -> None:
        """Blocking (start-up): store these accounts' whole settings, one transaction."""
        ...


class MessageStore(Protocol):
    """Messages, their status history, and the outbox."""

    def get(self, message_id: int) -> Message | None: ...
    def get_by_local_id(self, local_id: str) -> Message | None: ...
    def get_many(self, ids: Iterable[int]) -> list[Message]: ...
    def recent(
        self, limit: int = 500, direction: str | None = None, account_id: int | None = None
    ) -> list[Message]: ...
    def stream(self, account_id: int | None = None, limit: int | None = None) -> Iterator[Message]:
        """Newest first, read in pages as it is consumed (constant memory)."""
        ...

    def transitions(self, message_id: int) -> list[Transition]: ...
    def due_outbox(self, now: str, limit: int = 5000) -> list[OutboxRow]:
        """Queued, unclaimed rows due by ``now`` whose bulk run is not held, oldest first."""
        ...

    def waiting_accounts(self, now: str) -> dict[int, int]:
        """Account id -> its queued messages due by ``now`` and held by no dispatcher."""
        ...

    async def queue(self, items: Sequence[NewOutgoing], audit: AuditEntry, cap: SpendCap | None = None) -> list[int]:
        """Store outgoing messages; ``audit`` gets ``recipients`` (the count) in its detail.

        Raises:
            OverLimit: with ``cap``, the rows would take the account over its monthly
                spending limit (counting every send committed meanwhile); nothing was stored.
        """
        ...

    async def requeue_for_retry(self, message_id: int, audit: AuditEntry) -> bool:
        """A failed or undecided message back to the outbox (audited); False if it was not one."""
        ...

    async def release_for_retry(self, message_id: int, next_attempt_at: str, error: str) -> None: ...
    async def record_result(
        self, account_id: int, claimed: ClaimedMessage, result: SendResult, optout_note: str | None = None
    ) -> None:
        """Record a send's outcome and release the claim; apply receipts parked for it;
        ``optout_note``: the provider refused the number as opted out (it joins the list)."""
        ...

    async def record_results(
        self, account_id: int, pairs: Sequence[tuple[ClaimedMessage, SendResult | None]]
    ) -> RecordedBatch:
        """:meth:`record_result` for a batch (None: the provider did not report on it)."""
        ...


class ClaimStore(Protocol):
    """Who sends what: claims on outbox rows, heartbeats, and the claims of the dead."""

    async def heartbeat(self, me: str) -> None: ...
    def dead_claimers(self, alive_since: str, me: str) -> list[str]:
        """Other dispatchers holding claims whose process is gone or heartbeat older than
        ``alive_since``. A read: the periodic check costs no write."""
        ...

    async def abandon_dead_sends(self, alive_since: str, me: str) -> list[int]:
        """The dead dispatchers' claimed rows become ``needs_review`` (never resent blindly)."""
        ...

    async def give_back(self, ids: Sequence[int], me: str) -> list[int]:
        """Rows ``me`` claimed and never handed to the provider (it stopped first): queued and
        unclaimed again, the attempt not counted; returns the ids given back."""
        ...

    async def claim_groups(self, groups: ClaimGroups, me: str) -> list[ClaimResult]:
        """Claim the due rows of each ``(ids, run_id)`` group in one transaction, one result per
        group, in order (the claims a dispatcher's workers ask for in the same moment). Rows of
        a held bulk run are skipped unless ``run_id`` is None; rows whose number opted out since
        they were queued are rejected in the same transaction. ``groups`` may be a function,
        called on the writing thread as the transaction begins: the claims asked until then
        go in this one."""
        ...


class InboundStore(Protocol):
    """Receipts and replies, from a poll or from stored webhook events."""

    async def apply_receipts(self, account_id: int, receipts: Sequence[StatusEvent]) -> set[int]:
        """Forward-only; a receipt for a message not known yet is parked. Returns ids that moved."""
        ...

    async def store_replies(
        self, account_id: int, replies: Sequence[NewInbound], before_commit: ReplyTap | None = None
    ) -> StoredReplies:
        """Store replies (a provider message id once); STOP / START keywords change the
        opt-out list in the same transaction."""
        ...

    async def apply_events(self, events: Sequence[ParsedEvent], before_commit: ReplyTap | None = None) -> AppliedEvents:
        """Apply parsed webhook events, each in its own savepoint, and mark each processed,
        waiting (a receipt parked for its message) or failed, in one transaction."""
        ...


class WebhookEventStore(Protocol):
    """Raw webhook events (stored before the 2xx) and the webhook log."""

    def pending(self, limit: int = 500) -> list[StoredEvent]: ...
    def log(self, limit: int = 200) -> list[WebhookLogLine]:
        """Newest first."""
        ...

    def submit_deliveries(self, batch: Sequence[NewDelivery]) -> concurrent.futures.Future[list[int | None]]:
        """Store deliveries and their log lines in one transaction; resolves (from the writer)
        after COMMIT with each one's event id, or None for a duplicate. Not a coroutine: the
        receiver's loop wraps the future, and many deliveries share one commit."""
        ...

    async def log_rejected(self, account: str, path: str, status_code: int, reason: str) -> None: ...
    async def prune(self, events_before: str, log_keep: int) -> None:
        """Forget processed events and parked receipts older than ``events_before`` and all but
        the newest ``log_keep`` log lines."""
        ...


class OptOutStore(Protocol):
    """The opt-out list (changes are audited in the same transaction)."""

    def is_opted_out(self, number: str) -> bool: ...
    def opted_out_among(self, numbers: list[str]) -> set[str]: ...
    def reason(self, number: str) -> str | None:
        """How ``number`` came onto the list ("replied STOP on 3 Dec 2026"), None when it is not on it."""
        ...

    def reasons(self, numbers: Sequence[str]) -> dict[str, str]:
        """:meth:`reason` for those of ``numbers`` on the list."""
        ...

    def list_with_names(self) -> list[OptOutEntry]: ...
    async def add(self, number: str, source: str, note: str = "") -> bool: ...
    async def remove(self, number: str, source: str) -> bool: ...


class ConversationStore(Protocol):
    """The inbox: conversations, thread pages, read state, drafts and search."""

    def list(
        self,
        flt: ListFilter = ...,  # ListFilter.ALL
        after: tuple[str, int] | None = None,
        limit: int = 200,
        account_id: int | None = None,
        person: str = "",
    ) -> builtins.list[ConversationRow]: ...
    def get(self, conversation_id: int) -> ConversationRow | None: ...
    def get_many(self, ids: builtins.list[int]) -> builtins.list[ConversationRow]: ...
    def find(self, account_id: int, remote: str) -> ConversationRow | None: ...
    def ids_for_messages(self, message_ids: builtins.list[int]) -> set[int]: ...
    def count(self) -> int: ...
    def unread_total(self) -> int: ...
    def messages_before(
        self, account_id: int, remote: str, before: int | None, limit: int
    ) -> builtins.list[Message]: ...
    def messages_after(self, account_id: int, remote: str, after: int, limit: int) -> builtins.list[Message]: ...
    def search_messages(self, text: str, limit: int) -> builtins.list[SearchRow]: ...
    def search_conversations(self, text: str, limit: int) -> builtins.list[SearchRow]: ...
    async def mark_read(self, conversation_id: int) -> int: ...
    async def save_draft(self, conversation_id: int, text: str) -> None: ...
    def save_draft_blocking(self, conversation_id: int, text: str, timeout: float) -> bool:
        """Blocking :meth:`save_draft` for the moment the window closes; False when it is still
        queued after ``timeout`` seconds (it is committed before the store closes)."""
        ...


class PollStore(Protocol):
    """What polling needs: open sends and its per-account cursors."""

    def open_sends(self, account_id: int, created_after: str, limit: int = 5000) -> list[OpenSend]: ...
    def cursor(self, account_id: int, kind: str = "inbound") -> str | None: ...
    async def set_cursor(self, account_id: int, value: str, kind: str = "inbound") -> None: ...


class ProcessStore(Protocol):
    """Which smsdesk processes have the store open (a restore waits for them)."""

    def register(self, what: str) -> str:
        """Blocking: this process is using the store as ``what``; returns its key."""
        ...

    def unregister(self, key: str) -> None:
        """Blocking."""
        ...


class ChangeFeed(Protocol):
    """What other processes changed (PostgreSQL: LISTEN/NOTIFY and a change log)."""

    def version(self) -> int:
        """Moves whenever anyone commits (cheap: no I/O on SQLite)."""
        ...

    def wait(self, timeout: float) -> bool:
        """Block until another process may have committed, at most ``timeout`` seconds; False
        at once when this store cannot tell (SQLite: the caller sleeps instead)."""
        ...

    def marks(self) -> Marks: ...
    def moved(self, after_message: int, after_transition: int, limit: int) -> tuple[set[int], set[int]] | None:
        """(messages new or moved, the new replies among them) since the marks; None: too many."""
        ...

    def activity(self, after: int, limit: int) -> list[tuple[int, int, str]]:
        """(id, conversation id, kind) of team activity lines after id ``after``, oldest first."""
        ...

    def presence(self) -> list[tuple[str, int, str]]:
        """(person, conversation id, viewing / typing / left) heard from other desktops since
        the last call; never stored (SQLite: always empty)."""
        ...

    def announce(self, person: str, conversation_id: int, activity: str) -> None:
        """Blocking: tell the other desktops what this person is doing in a conversation."""
        ...


class RelayStore(Protocol):
    """Heartbeats of a relay (``smsdesk serve``) receiving and polling for the store."""

    def key(self) -> str:
        """This process's relay key."""
        ...

    async def beat(self, key: str, info: dict[str, Any]) -> None: ...
    async def end(self, key: str) -> None: ...
    def live(self, dead_after_s: float, exclude: str = "") -> list[dict[str, Any]]: ...
    def take_lease(self) -> bool:
        """Take the lead among relays if nobody holds it; True while this process holds it.
        The leader alone runs the singleton work (tunnel, pollers). Blocking: call from a thread.
        SQLite: always True (one relay per data folder); PostgreSQL: an advisory lock held on
        a connection of its own, freed by the server within seconds of a dead relay."""
        ...

    def lease_held(self) -> bool:
        """False once the lead is lost (its connection dropped). Blocking: call from a thread."""
        ...

    def drop_lease(self) -> None: ...


class SetupStore(Protocol):
    """Embedded defaults, once per store."""

    def first_start(self, make_seed: Callable[[], NewAccount]) -> bool:
        """Blocking: on the first start only, add the account ``make_seed()`` gives (unless an
        account has its name; called then only). True when this was the first start."""
        ...


class ReviewStore(Protocol):
    """Undecided sends (``needs_review``) in batches, and the record of checking them."""

    def batches(self) -> list[BatchRow]: ...
    def batch_messages(self, account_id: int, run_id: int | None) -> list[BatchMessage]: ...
    def check_key(self, account_id: int, run_id: int | None) -> str: ...
    def checks(self) -> dict[str, str]:
        """Every batch's check record (JSON text) by :meth:`check_key`."""
        ...

    async def claim_check(self, key: str, old: str | None, new: str) -> bool:
        """Replace a check record only if it is still ``old`` (None: absent): one process wins."""
        ...

    async def forget_checks(self, keep: Iterable[str]) -> None: ...
    async def settle(self, found: Sequence[tuple[int, SendResult]]) -> list[int]: ...
    async def mark_sent(self, account_id: int, run_id: int | None, audit: AuditEntry) -> list[int]:
        """A person's word: the batch went out. ``audit`` (with ``count``) when any moved."""
        ...

    async def send_again(
        self,
        account_id: int,
        run_id: int | None,
        only: Sequence[int] | None = None,
        why: str = "sent again",
        audit: AuditEntry | None = None,
    ) -> list[int]:
        """The batch's undecided messages (or ``only`` those) back to the outbox with their
        reference; ``audit`` (with ``count``) when any moved."""
        ...


class BackupStore(Protocol):
    """Copies of the store (SQLite: the online backup API; PostgreSQL: pg_dump), and notes
    about them kept in the store. Blocking: call from a worker thread."""

    def write_backup(self, dest: Path) -> BackupFacts: ...
    def inspect(self, path: Path, full: bool = True) -> BackupFacts: ...
    def others_open(self, dead_after_s: float) -> list[str]: ...
    def stage(self, backup: Path, staged: Path) -> None: ...
    def put_in_place(self, staged: Path, aside: Path) -> Path | None: ...
    def note_after_restore(self, key: str, value: str) -> None:
        """Write a note into the store just put in place (nothing has it open yet)."""
        ...

    def note(self, key: str) -> str | None: ...
    async def swap_note(self, key: str, old: str | None, new: str) -> bool:
        """Set ``key`` to ``new`` only if it is still ``old`` (None: absent): one process wins."""
        ...


class BulkSendStore(Protocol):
    """Bulk sends: a run keeps one row per data row of its file, and its accepted rows become
    outbox messages a window at a time, each exactly once."""

    async def create(
        self,
        new: NewRun,
        items: Sequence[NewItem],
        group: str,
        merge: bool,
        account_name: str,
        cap: SpendCap | None = None,
        **detail: Any,
    ) -> int:
        """Store a run with every row (saving its recipients as contact group ``group`` if named);
        undone with :class:`OverLimit` when its rows take the account's spending past ``cap``."""
        ...

    async def link_schedule(self, run_id: int, schedule_id: int) -> None: ...

    async def store_scheduled(self, run_id: int, send_at: str) -> None:
        """Make every accepted row a message scheduled for ``send_at``."""
        ...

    async def change_state(self, run_id: int, state: str, allowed_from: Sequence[str], action: str = "") -> bool: ...

    async def cancel(self, run_id: int) -> list[int] | None:
        """Stop an active run: the waiting messages it cancelled, or None when it was not active."""
        ...

    async def queue_next(self, run_id: int, room: int) -> list[int]:
        """Make up to ``room`` more accepted rows outbox messages, in file order."""
        ...

    async def recover(self, run_id: int, me: str) -> list[int]:
        """After a crash: the run's sends that may have gone out go to review."""
        ...

    def get(self, run_id: int) -> RunRow | None: ...

    def runs(self, states: Sequence[str] | None = None, limit: int = 200) -> list[RunRow]: ...

    def unfinished_for(self, account_id: int, source_hash: str) -> RunRow | None: ...

    def message_counts_claimed(self, run_id: int) -> tuple[dict[str, int], int]: ...

    def has_messages(self, run_id: int) -> bool: ...

    def has_waiting(self, run_id: int) -> bool: ...

    def unmaterialised(self, run_id: int) -> int: ...

    def in_outbox(self, run_id: int) -> int: ...

    def rejects(self, run_id: int) -> list[BulkReject]: ...

    def optout_how(self) -> dict[str, str]: ...

    def contact_numbers(self) -> frozenset[str]: ...


class AutoReplyStore(Protocol):
    """Automatic reply rules per account, and the guarded queue of their answers."""

    def rules(self, account_id: int | None = None) -> builtins.list[Rule]:
        """In the order they are tried (by account, then position)."""
        ...

    def get(self, rule_id: int) -> Rule | None: ...
    async def add(self, rule: Rule, audit: AuditEntry) -> int:
        """Appended after the account's other rules; returns its id."""
        ...

    async def update(self, rule: Rule, audit: AuditEntry) -> bool: ...
    async def remove(self, rule_id: int, audit: AuditEntry) -> bool: ...
    async def queue(
        self,
        item: NewOutgoing,
        in_reply_to: int,
        rule_id: int,
        guards: AutoReplyGuards,
        audit: AuditEntry,
        cap: SpendCap | None = None,
    ) -> tuple[int | None, str]:
        """Queue ``item`` as the rule's answer to message ``in_reply_to`` unless a guard says no,
        checked and written in one transaction (at most one answer per message and rule, ever).
        Returns (the new message id, or None and why not); ``cap`` as for
        :meth:`MessageStore.queue` (raises OverLimit)."""
        ...


class Store(Protocol):
    """Every repository of one open store (read-only: a store may build each on first use)."""

    @property
    def accounts(self) -> AccountStore: ...
    @property
    def messages(self) -> MessageStore: ...
    @property
    def claims(self) -> ClaimStore: ...
    @property
    def inbound(self) -> InboundStore: ...
    @property
    def webhook_events(self) -> WebhookEventStore: ...
    @property
    def optouts(self) -> OptOutStore: ...
    @property
    def contacts(self) -> ContactStore: ...
    @property
    def groups(self) -> GroupStore: ...
    @property
    def templates(self) -> TemplateStore: ...
    @property
    def conversations(self) -> ConversationStore: ...
    @property
    def team(self) -> TeamInboxStore: ...
    @property
    def relay_requests(self) -> RelayRequestStore: ...
    @property
    def polls(self) -> PollStore: ...
    @property
    def processes(self) -> ProcessStore: ...
    @property
    def changes(self) -> ChangeFeed: ...
    @property
    def relays(self) -> RelayStore: ...
    @property
    def setup(self) -> SetupStore: ...
    @property
    def review(self) -> ReviewStore: ...
    @property
    def backup(self) -> BackupStore: ...
    @property
    def bulk_sends(self) -> BulkSendStore: ...
    @property
    def schedules(self) -> ScheduleStore: ...
    @property
    def autoreplies(self) -> AutoReplyStore: ...
    @property
    def reports(self) -> ReportStore: ...

    def close(self) -> None:
        """Finish queued writes, then close."""
        ...
