"""The import wizard as a UI-free step machine (Electrum's ``wizard.py`` idea).

Steps: file -> mapping -> validation -> message -> send -> run -> report. Each step has a
guard (:meth:`BulkSendFlow.blocker` says in words why the person cannot go on yet); the
QWizard renders the steps and calls these methods, the tests drive it directly.

Heavy work comes in two forms: synchronous (:meth:`validate`, :meth:`set_template`, for the
CLI and tests) and as generators (:meth:`validate_steps`, :meth:`template_steps`) that the
GUI runs on its loop in slices of a few milliseconds, so 100,000 rows never stall the window;
``progress`` and ``cancelled`` callbacks let it show a bar and stop early.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from pathlib import Path

from smsdesk.domain.contacts import FieldKind
from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.segments import analyze
from smsdesk.domain.template import Template, compile_template, field_key
from smsdesk.services.bulk_send import BulkSendProgress, BulkSendRequest, BulkSendService, file_hash
from smsdesk.services.groups import GroupRecipient
from smsdesk.services.imports import mapping as mapping_mod
from smsdesk.services.imports.encodings import sample_lines
from smsdesk.services.imports.mapping import PHONE, ColumnMapping
from smsdesk.services.imports.pooled import CheckStep
from smsdesk.services.imports.readers import Table, read_file
from smsdesk.services.imports.validate import (
    ACCEPTED,
    Report,
    RowResult,
    ValidationContext,
    flag_text,
    validate,
    validate_steps,
)
from smsdesk.services.imports.words import FIRST_NAME_WORDS, LAST_NAME_WORDS, norm


class Step(IntEnum):
    FILE = 0
    MAPPING = 1
    VALIDATION = 2
    MESSAGE = 3
    SEND = 4
    RUN = 5
    REPORT = 6
    CONTACTS = 7  # instead of message/send/run: save the rows as contacts in a group, send nothing


STEP_TITLES = {
    Step.FILE: "Choose a file",
    Step.MAPPING: "Match the columns",
    Step.VALIDATION: "Check the rows",
    Step.MESSAGE: "Write the message",
    Step.SEND: "Send or schedule",
    Step.RUN: "Sending",
    Step.REPORT: "Report",
    Step.CONTACTS: "Save as contacts",
}


@dataclass(frozen=True, slots=True)
class PreviewRow:
    row: int
    number: str
    name: str
    text: str
    segments: int
    encoding: str
    flags: str
    ucs2_chars: str


class BulkSendFlow:
    """State of one import. ``runs`` is needed from the send step on (None for dry runs)."""

    def __init__(self, runs: BulkSendService | None = None, country: str = "GB") -> None:
        self.runs = runs
        self.step = Step.FILE
        self.country = country
        self.path: Path | None = None
        self._source: tuple[str, str] | None = None  # (name, hash) of recipients not read from a file
        self.table: Table | None = None
        self.mapping: ColumnMapping | None = None
        self.report: Report | None = None
        self.template_text = ""
        self.template: Template | None = None
        self.account_id: int | None = None
        self.contact_policy = "merge"
        self.send_at: datetime | None = None
        self.group: str | None = None
        self.over_limit_ok = False  # the person ticked "Send over the limit"
        self.run_id: int | None = None
        # Only add the people to the address book (no message): which columns are kept on
        # each contact as custom fields, and as what kind; a column missing here is left out.
        self.contacts_only = False
        self.kinds: dict[int, FieldKind] = {}
        self._ctx: ValidationContext | None = None
        self._sample: tuple[Path, bytes] | None = None

    # ---- file ------------------------------------------------------------------------
    def load(self, path: str | Path, encoding: str | None = None) -> Table:
        """Read a file and guess the mapping (raises InvalidInput with a reason).

        ``encoding`` is a codec the person chose; by default it is detected, with the default
        country as a hint. A failed read leaves no table (the page must not offer "Next" for
        the previous file).
        """
        self.path = Path(path)
        self._source = None
        self.table = None
        self.mapping = None
        self.report = None
        self._sample = None
        table = read_file(self.path, encoding=encoding, country=self.country)
        self.mapping = mapping_mod.guess(table, self.country)
        self.table = table
        self.kinds = dict.fromkeys(range(len(table.headers)), FieldKind.TEXT)
        return table

    def load_recipients(self, recipients: Sequence[GroupRecipient], source: str) -> Table:
        """Contacts (a group's members, resolved) as the table a send validates, one row each:
        their number for texts and every merge value they have, so the rest of the wizard
        (template, preview, report, run) is the same as for a file."""
        keys = sorted({k for r in recipients for k in r.fields} - {PHONE, "number"})
        rows = [[r.number, *(r.fields.get(k, "") for k in keys)] for r in recipients]
        self.path = None
        self.report = None
        self._sample = None
        self.table = Table(["number", *keys], rows, list(range(1, len(rows) + 1)), source=source)
        self.mapping = ColumnMapping(0, {**{k: i + 1 for i, k in enumerate(keys)}, PHONE: 0}, self.country)
        digest = hashlib.sha256("\n".join("\t".join(r) for r in rows).encode("utf-8")).hexdigest()
        self._source = (source, digest)
        return self.table

    def special_values(self, limit: int = 6, scan: int = 20_000) -> list[str]:
        """Cells with letters beyond plain ASCII (names, usually), the first ``limit`` distinct.

        What the encoding decides: the file page shows them, so a wrong reading is seen even
        when the first rows are all plain ASCII.
        """
        if self.table is None:
            return []
        found: list[str] = []
        for row in self.table.rows[:scan]:
            for cell in row:
                if not cell.isascii() and cell.strip() not in found:
                    found.append(cell.strip())
                    if len(found) >= limit:
                        return found
        return found

    def preview_values(self, codec: str, limit: int = 6) -> list[str]:
        """:meth:`special_values` as ``codec`` would read them, without reading the file again
        as a table: a live preview while the person looks through the encodings."""
        table, path = self.table, self.path
        if table is None or path is None or table.encoding == "xlsx":
            return []
        if self._sample is None or self._sample[0] != path:
            data = path.read_bytes()
            self._sample = (path, data[:16384] if table.encoding.startswith("utf-16") else sample_lines(data))
        text = self._sample[1].decode(codec, errors="replace")
        found: list[str] = []
        for row in csv.reader(io.StringIO(text), delimiter=table.delimiter or ","):
            for cell in row:
                value = cell.strip()
                if not value.isascii() and value not in found:
                    found.append(value)
                    if len(found) >= limit:
                        return found
        return found

    # ---- mapping ---------------------------------------------------------------------
    def set_country(self, country: str) -> None:
        self.country = (country or "GB").upper()
        if self.mapping is not None:
            self.mapping.country = self.country
        self.report = None

    def set_field(self, column: int, field: str | None) -> None:
        """Give column ``column`` the role ``field`` (``phone``, ``name`` or a merge field).

        An empty ``field`` takes the phone / name role away from that column. Every column
        keeps its own-name merge field either way.
        """
        assert self.mapping is not None and self.table is not None
        if not field:
            for role in (PHONE, "name", "first_name"):
                if self.mapping.fields.get(role) == column:
                    del self.mapping.fields[role]
            if self.mapping.phone == column:
                self.mapping.phone = None
        else:
            key = field_key(field)
            self.mapping.fields[key] = column
            self.mapping.first_word.discard(key)
            if key == PHONE:
                self.mapping.phone = column
        self.report = None

    def keep_as(self, column: int, kind: FieldKind | None) -> None:
        """Keep ``column`` on each contact as a custom field of ``kind`` (None: leave it out)."""
        if kind is None:
            self.kinds.pop(column, None)
        else:
            self.kinds[column] = kind

    def apply_map(self, pairs: list[str]) -> None:
        assert self.mapping is not None and self.table is not None
        mapping_mod.apply_overrides(self.mapping, self.table, pairs)
        self.report = None

    def field_of(self, column: int) -> str:
        """The role a column plays, for a mapping combo box (``phone``, ``name``, or a field)."""
        assert self.mapping is not None
        if self.mapping.phone == column:
            return PHONE
        if self.mapping.name == column:
            return "name"
        return ""

    # ---- validation ------------------------------------------------------------------
    def context(self) -> ValidationContext:
        if self._ctx is None:
            self._ctx = self.runs.context(self.account_id, self.contact_policy) if self.runs else ValidationContext()
        return self._ctx

    def set_contact_policy(self, policy: str) -> None:
        if policy not in ("merge", "skip"):
            raise InvalidInput("Existing contacts are either merged or skipped.")
        self.contact_policy = policy
        self.context().contact_policy = policy
        self.report = None

    def validate(
        self, progress: Callable[[int, int], None] | None = None, cancelled: Callable[[], bool] | None = None
    ) -> Report:
        assert self.table is not None and self.mapping is not None
        if self.mapping.phone is None:
            raise InvalidInput("Choose the column that holds the phone numbers.")
        self.report = validate(self.table, self.mapping, self.template, self.context(), progress, cancelled)
        return self.report

    def validate_steps(self, cancelled: Callable[[], bool] | None = None) -> Generator[CheckStep, None, Report]:
        """:meth:`validate` as a generator of ``(done, total)`` (for a GUI that runs it in slices),
        with a big file's rows judged in the app's worker processes (a
        :class:`~smsdesk.services.imports.validate.Pending` is yielded while one is awaited)."""
        assert self.table is not None and self.mapping is not None
        if self.mapping.phone is None:
            raise InvalidInput("Choose the column that holds the phone numbers.")
        cpu = self.runs.cpu if self.runs is not None else None
        pool = cpu.executor() if cpu is not None else None
        report = yield from validate_steps(
            self.table, self.mapping, self.template, self.context(), cancelled, pool=pool
        )
        self.report = report
        return report

    # ---- message ---------------------------------------------------------------------
    def set_account(self, account_id: int | None) -> None:
        self.account_id = account_id
        if self.runs is not None and account_id is not None:
            ctx = self.runs.context(account_id)
            self.context().price_per_segment = ctx.price_per_segment
            self.context().prices = ctx.prices
            if self.report is not None:
                self.report.price_per_segment = ctx.price_per_segment
                self.report.prices = ctx.prices

    def set_template(
        self, text: str, progress: Callable[[int, int], None] | None = None, cancelled: Callable[[], bool] | None = None
    ) -> Report:
        """Use ``text`` as the message and re-validate (empty merge fields, segments, cost)."""
        self.template_text = text
        self.template = compile_template(text) if text.strip() else None
        return self.validate(progress, cancelled)

    def template_steps(
        self, text: str, cancelled: Callable[[], bool] | None = None
    ) -> Generator[CheckStep, None, Report]:
        """:meth:`set_template` as a generator (see :meth:`validate_steps`)."""
        self.template_text = text
        self.template = compile_template(text) if text.strip() else None
        return (yield from self.validate_steps(cancelled))

    def unknown_fields(self) -> list[str]:
        """Fields the template uses that no column provides (a typo, usually)."""
        if self.template is None or self.mapping is None:
            return []
        return [f for f in self.template.fields if f not in self.mapping.fields]

    def preview(self, limit: int = 50) -> list[PreviewRow]:
        """Rendered texts of the first accepted rows."""
        if self.report is None or self.table is None or self.mapping is None:
            return []
        out: list[PreviewRow] = []
        name_col = self.mapping.name
        for r in self.report.items:
            if r.status != ACCEPTED or r.text is None:
                continue
            row = self.table.rows[r.index]
            name = row[name_col] if name_col is not None else ""
            info = analyze(r.text)
            out.append(
                PreviewRow(
                    r.row,
                    r.number or "",
                    name,
                    r.text,
                    info.segments,
                    info.encoding,
                    flag_text(r.flags),
                    "".join(info.ucs2_chars),
                )
            )
            if len(out) >= limit:
                break
        return out

    # ---- send ------------------------------------------------------------------------
    def set_schedule(self, when: datetime | None) -> None:
        self.send_at = when

    def set_group(self, name: str | None) -> None:
        self.group = (name or "").strip() or None

    def over_limit(self) -> str:
        """Why this send would go over the account's monthly spending limit ("" when it would not)."""
        if self.runs is None or self.account_id is None or self.report is None:
            return ""
        return self.runs.over_limit(self.account_id, self.report.cost)

    async def start(self) -> int:
        """Store the run and start or schedule it; returns the run id."""
        if self.runs is None:
            raise InvalidInput("This wizard has no run service (dry run).")
        reason = self.blocker(Step.SEND)
        if reason:
            raise InvalidInput(reason)
        assert self.table is not None and self.mapping is not None and self.report is not None
        assert self.account_id is not None
        if self._source is not None:
            source, source_hash = self._source
        else:
            assert self.path is not None
            source, source_hash = self.path.name, file_hash(self.path)
        run = await self.runs.start(
            BulkSendRequest(
                self.account_id,
                self.table,
                self.mapping,
                self.report,
                self.template_text,
                source=source,
                source_hash=source_hash,
                send_at=self.send_at,
                group=self.group,
                contact_policy=self.contact_policy,
                over_limit_ok=self.over_limit_ok,
            )
        )
        self.run_id = run.id
        self.step = Step.RUN
        return run.id

    def progress(self) -> BulkSendProgress | None:
        if self.runs is None or self.run_id is None:
            return None
        return self.runs.progress(self.run_id)

    # ---- navigation ------------------------------------------------------------------
    def blocker(self, step: Step | None = None) -> str:
        """Why the person cannot leave ``step`` (default: the current one) yet; empty when they can."""
        step = self.step if step is None else step
        if step == Step.FILE:
            return "" if self.table is not None else "Choose a CSV, TXT or .xlsx file."
        if step == Step.MAPPING:
            if self.mapping is None or self.mapping.phone is None:
                return "Choose the column that holds the phone numbers."
            return ""
        if step == Step.VALIDATION:
            if self.report is None:
                return "Check the rows first."
            if not self.report.complete:
                return "The check was cancelled; run it again."
            return "" if self.report.accepted else "No row can be sent; fix the file or the mapping."
        if step == Step.MESSAGE:
            if self.account_id is None:
                return "Choose the account to send from."
            if self.template is None:
                return "Write the message."
            if self.report is None or self.report.template is not self.template or not self.report.complete:
                return "Wait for the check of the message to finish."
            unknown = self.unknown_fields()
            if unknown:
                return "No column gives " + ", ".join("{{" + f + "}}" for f in unknown) + "; map one or add a fallback."
            return "" if self.report.accepted else "No row can be sent with this message."
        if step == Step.SEND:
            return self.blocker(Step.MESSAGE)
        if step == Step.RUN:
            p = self.progress()
            if p is None:
                return "Start the run first."
            return "" if p.done or p.state == "scheduled" else "The run is still sending."
        return ""

    def next(self) -> Step:
        reason = self.blocker()
        if reason:
            raise InvalidInput(reason)
        if self.step == Step.SEND:
            raise InvalidInput("Start the run with start().")
        self.step = self.following(self.step)
        return self.step

    def following(self, step: Step) -> Step:
        """The step after ``step``: saving as contacts comes right after the columns are matched."""
        if self.contacts_only and step == Step.MAPPING:
            return Step.CONTACTS
        if step in (Step.REPORT, Step.CONTACTS):
            return step
        return Step(step + 1)

    def back(self) -> Step:
        if self.step in (Step.RUN, Step.REPORT):
            return self.step  # a started run cannot be un-started; cancel it instead
        if self.step == Step.CONTACTS:
            self.step = Step.MAPPING
        elif self.step > Step.FILE:
            self.step = Step(self.step - 1)
        return self.step

    def rejected_rows(self) -> list[RowResult]:
        return self.report.rejected_items if self.report else []

    def names(self) -> Callable[[int], str]:
        """A function from a table row's index to its person's name, for tables of rows.

        The name column, or the first-name column joined with a last-name column ("Amélie
        Durand" from an Outlook export's "First Name" and "Last Name").
        """
        table, m = self.table, self.mapping
        if table is None or m is None:
            return lambda _i: ""
        col = m.name if m.name is not None else m.fields.get("first_name")
        if col is None:
            return lambda _i: ""
        normed = [norm(h) for h in table.headers]
        last = next((normed.index(w) for w in LAST_NAME_WORDS if w in normed), None)
        if normed[col] not in FIRST_NAME_WORDS or last == col:
            last = None
        rows = table.rows

        def name(index: int) -> str:
            row = rows[index]
            first = row[col].strip() if col < len(row) else ""
            if last is None or last >= len(row):
                return first
            return f"{first} {row[last].strip()}".strip()

        return name
