"""Backups and restores of the database, by hand and once a day.

- :meth:`BackupService.back_up` writes a consistent copy while smsdesk runs (the store's
  ``BackupStore``: SQLite's online backup API, never a file copy of the live database) into a
  chosen file or the backup folder.
- :meth:`BackupService.run` makes one automatic backup a day into the backup folder (the
  ``backup_folder`` setting, a USB stick or a synced folder; default ``backups`` in the data
  folder) and keeps the newest ``backup_keep`` of them. When and where the last one went
  is kept in the database, and one process on it makes each day's backup.
- :func:`restore` replaces the database with a backup: only while no other smsdesk process
  has it open (it names them), after checking the file's integrity and version, keeping the
  replaced database aside. The window cannot replace the database it has open, so it stages
  the checked backup (:meth:`BackupService.stage_restore`) and :func:`apply_staged` puts it
  in place at the next start, before the database is opened.

API keys live in the keyring, never in a backup: after a restore (on a new computer) the
accounts whose keys are missing are listed (:meth:`BackupService.missing_keys`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smsdesk.config.paths import STAGED_RESTORE, Paths
from smsdesk.config.secrets import SecretStore, secret_key
from smsdesk.config.settings import Settings
from smsdesk.domain.errors import InvalidInput, SecretStoreUnavailable, SmsdeskError, StorageError
from smsdesk.providers import registry
from smsdesk.storage.api import AccountStore, BackupStore
from smsdesk.storage.records import BackupFacts

log = logging.getLogger(__name__)

DEAD_AFTER_S = 45.0  # a heartbeat older than this is a process that is gone (as the dispatcher's rule)
AUTO_EVERY = timedelta(days=1)
AUTO_RETRY = timedelta(hours=1)  # after a failed automatic backup (a missing stick)
AUTO_PREFIX = "smsdesk-auto-"
STAGED = STAGED_RESTORE
STAGED_NOTE = "restore-pending.json"
LAST_AUTO_KEY = "backup:last_auto"
LAST_RESTORE_KEY = "backup:last_restore"


class ProcessesRunning(SmsdeskError):
    """Another smsdesk process has the database open (CLI exit code 1)."""


@dataclass(frozen=True, slots=True)
class RestoreResult:
    source: Path
    facts: BackupFacts
    aside: Path | None  # where the replaced database is kept


def _stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def _free_name(folder: Path, prefix: str) -> Path:
    base = f"{prefix}{_stamp()}"
    path = folder / f"{base}.sqlite3"
    n = 1
    while path.exists() or path.with_name(path.name + ".partial").exists():
        n += 1
        path = folder / f"{base}-{n}.sqlite3"
    return path


def describe(facts: BackupFacts) -> str:
    """One line a person can check a backup by."""
    when = ""
    if facts.taken_at:
        with contextlib.suppress(ValueError):
            when = f" taken {datetime.fromisoformat(facts.taken_at).astimezone():%d %b %Y %H:%M}"
    size = f"{facts.size / 1_000_000:.1f} MB" if facts.size >= 100_000 else f"{facts.size / 1000:.0f} kB"
    n = len(facts.accounts)
    names = f" ({', '.join(name for name, _ in facts.accounts)})" if n else ""
    return (
        f"{facts.messages:,} message{'s' if facts.messages != 1 else ''} and {n} account{'s' if n != 1 else ''}"
        f"{names}{when}, {size}"
    )


def check_backup(path: Path, files: BackupStore) -> BackupFacts:
    """Integrity and version of a backup file, worded for a person.

    Raises:
        InvalidInput: missing, damaged, not an smsdesk backup, or from a newer smsdesk.
    """
    try:
        return files.inspect(path)
    except StorageError as exc:
        raise InvalidInput(str(exc)) from exc


def refuse_if_open(files: BackupStore) -> None:
    """Raises ProcessesRunning, naming them, while another smsdesk process has the database open."""
    running = files.others_open(DEAD_AFTER_S)
    if running:
        raise ProcessesRunning(
            f"smsdesk is still running: {'; '.join(running)} has the database open. Close it (quit the "
            "window, stop smsdesk serve) and restore again. Nothing was changed."
        )


def restore(paths: Paths, backup: Path, files: BackupStore) -> RestoreResult:
    """Replace the database in ``paths`` (``files``: its store, not open) with ``backup``.

    Raises:
        InvalidInput: the file is missing, damaged, not smsdesk's, or from a newer smsdesk.
        ProcessesRunning: another smsdesk process has the database open.
    """
    facts = check_backup(backup, files)
    refuse_if_open(files)
    paths.home.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new data folder is private
    staged = paths.home / STAGED
    files.stage(backup, staged)
    return _finish(paths, files, backup, facts, staged)


def _finish(paths: Paths, files: BackupStore, source: Path, facts: BackupFacts, staged: Path) -> RestoreResult:
    aside = files.put_in_place(staged, paths.home / "replaced" / f"smsdesk-before-restore-{_stamp()}.sqlite3")
    record = json.dumps(
        {
            "from": str(source),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "aside": str(aside) if aside else "",
        }
    )
    files.note_after_restore(LAST_RESTORE_KEY, record)  # also brings an older backup's schema up to date
    log.info("restored %s (%s); the replaced database is kept at %s", source, describe(facts), aside)
    return RestoreResult(source, facts, aside)


def apply_staged(paths: Paths, files: BackupStore) -> RestoreResult | None:
    """At start, before the database opens (``files``: its store): put a restore the window
    staged in place.

    Returns None when none waits. Raises ProcessesRunning (the restore waits for the next
    start) or InvalidInput (the staged copy is unusable; it is removed).
    """
    staged, note = paths.home / STAGED, paths.home / STAGED_NOTE
    if not staged.exists():
        return None
    try:
        source = Path(json.loads(note.read_text(encoding="utf-8")).get("from") or staged)
    except (OSError, ValueError):
        source = staged
    try:
        facts = check_backup(staged, files)
    except InvalidInput:
        for f in (staged, note):
            with contextlib.suppress(OSError):
                f.unlink()
        raise
    refuse_if_open(files)
    result = _finish(paths, files, source, facts, staged)
    with contextlib.suppress(OSError):
        note.unlink()
    return result


class BackupService:
    """Backups of one runtime's database; the daily one runs on the app loop until :meth:`stop`."""

    def __init__(
        self,
        paths: Paths,
        files: BackupStore,
        accounts: AccountStore,
        settings: Settings,
        secrets: SecretStore,
        *,
        tick: float = 600.0,
        first_delay: float = 120.0,
    ) -> None:
        self.paths = paths
        self.files = files
        self.accounts = accounts
        self.settings = settings  # backup_folder, backup_daily, backup_keep
        self.secrets = secrets
        self.tick = tick
        self.first_delay = first_delay
        self._stopping = False
        self._wake = asyncio.Event()
        self._warned = ""

    # ---- where ---------------------------------------------------------------------------
    def folder(self) -> Path:
        chosen = (self.settings.backup_folder or "").strip()
        return Path(chosen).expanduser() if chosen else self.paths.home / "backups"

    def _ensure_folder(self) -> Path:
        folder = self.folder()
        if not folder.exists():
            if (self.settings.backup_folder or "").strip() and not folder.parent.exists():
                raise InvalidInput(
                    f"The backup folder {folder} is not available (is the USB stick or network drive "
                    "connected?). Connect it, or choose another folder in Settings -> Data."
                )
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not folder.is_dir():
            raise InvalidInput(f"{folder} is not a folder. Choose a folder for backups in Settings -> Data.")
        return folder

    # ---- by hand -------------------------------------------------------------------------
    async def back_up(self, dest: Path | None = None) -> BackupFacts:
        """Back up now into ``dest`` (a new file, or a folder for a dated file), else the backup folder.

        Raises:
            InvalidInput: ``dest`` exists as a file, or its folder does not.
            StorageError: the copy could not be written.
        """
        target = await asyncio.to_thread(self._target, dest)
        facts = await asyncio.to_thread(self.files.write_backup, target)
        log.info("backed up to %s (%s)", target, describe(facts))
        return facts

    def _target(self, dest: Path | None) -> Path:
        if dest is None:
            return _free_name(self._ensure_folder(), "smsdesk-backup-")
        dest = dest.expanduser()
        if dest.is_dir():
            return _free_name(dest, "smsdesk-backup-")
        if dest.exists():
            raise InvalidInput(f"{dest} already exists. Give a new file name (nothing was written).")
        if not dest.parent.is_dir():
            raise InvalidInput(f"The folder {dest.parent} does not exist (nothing was written).")
        return dest

    async def stage_restore(self, backup: Path) -> BackupFacts:
        """Check ``backup`` and copy it into the data folder; the next start puts it in place.

        Raises:
            InvalidInput: the file is missing, damaged, not smsdesk's, or from a newer smsdesk.
            ProcessesRunning: another smsdesk process (not this one) has the database open.
        """
        return await asyncio.to_thread(self._stage, backup)

    def _stage(self, backup: Path) -> BackupFacts:
        facts = check_backup(backup, self.files)
        refuse_if_open(self.files)
        self.files.stage(backup, self.paths.home / STAGED)
        (self.paths.home / STAGED_NOTE).write_text(json.dumps({"from": str(backup)}), encoding="utf-8")
        return facts

    async def check(self, backup: Path) -> BackupFacts:
        """:func:`check_backup` off the GUI thread, then :func:`refuse_if_open` (others only)."""
        facts = await asyncio.to_thread(check_backup, backup, self.files)
        await asyncio.to_thread(refuse_if_open, self.files)
        return facts

    # ---- after a restore -------------------------------------------------------------------
    def _note(self, key: str) -> str | None:
        return self.files.note(key)

    def last_restore(self) -> dict[str, str] | None:
        """Where the last restore came from, when, and where the data it replaced is kept."""
        text = self._note(LAST_RESTORE_KEY)
        try:
            return dict(json.loads(text)) if text else None
        except ValueError:
            return None

    def missing_keys(self) -> list[tuple[str, str, list[str]]]:
        """(account, provider name, secret fields without a value) for accounts whose keys must be
        entered again: the keyring of this computer does not have them (keys are never backed up)."""
        out: list[tuple[str, str, list[str]]] = []
        for account in self.accounts.all():
            try:
                spec = registry.get_spec(account.provider)
            except SmsdeskError:
                continue
            needed = [f for f in spec.fields if f.secret and f.required and not f.generated]
            missing = []
            for fld in needed:
                try:
                    have = self.secrets.get(secret_key(account.name, fld.name))
                except SecretStoreUnavailable:
                    have = None
                if not have:
                    missing.append(fld.label)
            if missing:
                out.append((account.name, spec.name, missing))
        return out

    # ---- the daily backup --------------------------------------------------------------------
    def last_auto(self) -> dict[str, str]:
        """The last automatic backup: ``at`` / ``path`` of the last one made, ``error`` if the
        last attempt (``tried``) failed."""
        text = self._note(LAST_AUTO_KEY)
        try:
            return dict(json.loads(text)) if text else {}
        except ValueError:
            return {}

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        delay = self.first_delay
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            if self._stopping:
                break
            self._wake.clear()
            delay = self.tick
            try:
                await self.auto_if_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - tomorrow's backup must still happen
                log.exception("the automatic backup failed unexpectedly")

    async def auto_if_due(self) -> BackupFacts | None:
        """Make today's automatic backup if it is due and no other process is making it."""
        if not self.settings.backup_daily:
            return None
        old = self._note(LAST_AUTO_KEY)
        last = self.last_auto()
        now = datetime.now(UTC)
        try:
            at = datetime.fromisoformat(last.get("tried", ""))
        except ValueError:
            at = None
        wait = AUTO_RETRY if last.get("error") else AUTO_EVERY
        if at is not None and now - at < wait:
            return None
        claim = json.dumps({**last, "tried": now.isoformat(timespec="seconds")})
        if not await self.files.swap_note(LAST_AUTO_KEY, old, claim):
            return None  # another process on this database is making it
        try:
            folder = await asyncio.to_thread(self._ensure_folder)
            target = await asyncio.to_thread(_free_name, folder, AUTO_PREFIX)
            facts = await asyncio.to_thread(self.files.write_backup, target)
            removed = await asyncio.to_thread(self.prune, folder)
        except SmsdeskError as exc:
            done = json.dumps(
                {
                    "tried": now.isoformat(timespec="seconds"),
                    "error": str(exc),
                    "at": last.get("at", ""),
                    "path": last.get("path", ""),
                }
            )
            await self.files.swap_note(LAST_AUTO_KEY, claim, done)
            if self._warned != str(exc):  # once per distinct problem, not every hour
                self._warned = str(exc)
                log.warning("the automatic backup failed: %s", exc)
            return None
        self._warned = ""
        done = json.dumps(
            {
                "tried": now.isoformat(timespec="seconds"),
                "at": now.isoformat(timespec="seconds"),
                "path": str(facts.path),
                "error": "",
            }
        )
        await self.files.swap_note(LAST_AUTO_KEY, claim, done)
        log.info("automatic backup %s (%s); %d older ones removed", facts.path, describe(facts), removed)
        return facts

    def prune(self, folder: Path) -> int:
        """Keep the newest ``backup_keep`` automatic backups in ``folder``; returns how many went."""
        keep = max(1, int(self.settings.backup_keep or 1))
        autos = sorted(
            (p for p in folder.glob(f"{AUTO_PREFIX}*.sqlite3") if p.is_file()),
            key=lambda p: (p.stat().st_mtime_ns, p.name),
        )  # oldest first
        gone = 0
        for old in autos[:-keep]:
            try:
                old.unlink()
                gone += 1
            except OSError as exc:
                log.info("could not remove the old backup %s: %s", old, exc)
        return gone


__all__ = [
    "BackupFacts",
    "BackupService",
    "ProcessesRunning",
    "RestoreResult",
    "apply_staged",
    "check_backup",
    "describe",
    "refuse_if_open",
    "restore",
]
