"""Reading whatever a spreadsheet export gave us into rows of text.

Encodings (in order of evidence): a BOM (UTF-8, UTF-16 LE/BE as Excel's "Unicode text"
writes them); UTF-16 without a BOM (NUL bytes in every other position); strict UTF-8;
else cp1252 (what Excel on Windows writes for "CSV"), or latin-1 when bytes cp1252 leaves
undefined appear. Delimiters: comma, semicolon, tab or pipe, whichever splits the first
lines most consistently. Header row: the first non-blank row with as many cells as the data,
unless its cells look like data (a phone number); title lines above it are skipped.

``.xlsx`` goes through openpyxl in read-only mode. Numeric cells are turned back into the
text a person saw (``447911123456`` not ``447911123456.0``); spreadsheet damage is judged
later (validate.py), from the text.
"""

from __future__ import annotations

import csv
import gc
import io
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from smsdesk.domain.errors import InvalidInput

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SNIFF_LINES = 50
_PHONEISH = re.compile(r"^[\s+()\-./0-9]*\d[\s()\-./0-9]{5,}$")
_CP1252_UNDEFINED = {0x81, 0x8D, 0x8F, 0x90, 0x9D}


@dataclass(slots=True)
class Table:
    """A file as rows of text.

    Attributes:
        headers: one name per column (``Column N`` when the file has no header row).
        rows: data rows (header excluded); each padded/trimmed to ``len(headers)``.
        row_numbers: for each data row, its 1-based position after the header (blank rows
            are skipped, so numbers can have gaps; they still point at the file's record).
        encoding / delimiter: what was detected (``xlsx`` / ``""`` for workbooks).
        has_header: whether the first row was taken as headers.
        skipped_lines: title lines above the header and blank rows, for the summary.
    """

    headers: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    encoding: str = "utf-8"
    delimiter: str = ","
    has_header: bool = True
    skipped_lines: int = 0
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def preview(self, n: int = 10) -> list[list[str]]:
        return self.rows[:n]

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, self.delimiter or "none")


def decode(data: bytes) -> tuple[str, str]:
    """``(text, encoding name)`` for the bytes of a text export."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le", errors="replace"), "utf-16-le"
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be", errors="replace"), "utf-16-be"
    head = data[:4000]
    if len(head) >= 4 and head.count(0) >= len(head) // 4:
        # No BOM but NULs in alternate bytes: ASCII text in UTF-16; the NUL side tells the order.
        even = head[0::2].count(0)
        odd = head[1::2].count(0)
        enc = "utf-16-be" if even > odd else "utf-16-le"
        return data.decode(enc, errors="replace"), enc
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if any(b in _CP1252_UNDEFINED for b in set(data)):
        return data.decode("latin-1"), "latin-1"
    return data.decode("cp1252"), "cp1252"


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most consistent number of cells."""
    # Only the head: splitlines() over a 100,000-line text holds the GIL ~20 ms in one C call.
    lines = [ln for ln in text[:65536].splitlines()[:_SNIFF_LINES] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", (-1.0, 0)
    sample = "\n".join(lines)
    for delim in DELIMITERS:
        if delim not in sample:
            continue
        counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delim)]
        mode, freq = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        score = (freq / len(counts), mode)
        if score > best_score:
            best, best_score = delim, score
    return best


def _is_blank(row: list[str]) -> bool:
    return not "".join(row).strip()


def looks_like_data(row: list[str]) -> bool:
    """A row whose cells include a phone-like value is data, not a header."""
    return any(_PHONEISH.match(c.strip()) for c in row if c.strip())


def _shape(raw: list[list[str]], source: str, encoding: str, delimiter: str) -> Table:
    """Find the header row, drop blank rows, square up the rest."""
    numbered = [(i, r) for i, r in enumerate(raw) if not _is_blank(r)]
    skipped_blank = len(raw) - len(numbered)
    if not numbered:
        raise InvalidInput(f"{source or 'The file'} has no rows.")
    width_counts = Counter(len(r) for _, r in numbered[:_SNIFF_LINES])
    width = max(width_counts.most_common(1)[0][0], 1)
    # Title lines ("Customer list, exported 3 May") sit above the header with fewer cells.
    start = 0
    for k, (_, r) in enumerate(numbered[:10]):
        if len([c for c in r if c.strip()]) >= min(2, width) and len(r) >= width:
            start = k
            break
    title_lines = start
    first_idx, first = numbered[start]
    has_header = not looks_like_data(first)
    if has_header:
        headers = [c.strip() or f"Column {j + 1}" for j, c in enumerate(first)]
        data = numbered[start + 1 :]
        base = first_idx
    else:
        headers = []
        data = numbered[start:]
        base = first_idx - 1
    ncols = max([len(headers)] + [len(r) for _, r in data[:_SNIFF_LINES]])
    headers += [f"Column {j + 1}" for j in range(len(headers), ncols)]
    headers = _unique(headers)
    rows: list[list[str]] = []
    numbers: list[int] = []
    for idx, r in data:
        if len(r) < ncols:
            r = r + [""] * (ncols - len(r))
        elif len(r) > ncols:
            extra = r[ncols:]
            # Cells beyond the header are usually an unquoted delimiter inside a value: keep it.
            r = r[: ncols - 1] + [delimiter.join(r[ncols - 1 :])] if any(e.strip() for e in extra) else r[:ncols]
        rows.append(r)
        numbers.append(idx - base)
    table = Table(headers, rows, numbers, encoding, delimiter, has_header, title_lines + skipped_blank, source)
    if title_lines:
        table.notes.append(f"Skipped {title_lines} line(s) above the header row.")
    return table


def _unique(names: list[str]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for n in names:
        seen[n.lower()] += 1
        out.append(n if seen[n.lower()] == 1 else f"{n} ({seen[n.lower()]})")
    return out


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic cyclic GC while 100,000 rows of small objects are built.

    Each full collection would walk every one of them (0.5-1 s of CPU over a 100k-row
    import); rows and verdicts hold no reference cycles, so nothing is lost by waiting. The
    previous state is restored (the GUI pauses GC itself around its own work).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_text(data: bytes, source: str = "") -> Table:
    text, encoding = decode(data)
    delimiter = sniff_delimiter(text)
    # A Python-level loop, not list(reader): list() would hold the GIL for the whole file and
    # freeze the GUI thread while a worker thread reads 100,000 rows.
    raw: list[list[str]] = []
    append = raw.append
    with gc_paused():
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            append(row)
    return _shape(raw, source, encoding, delimiter)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return str(value)


def read_xlsx(path: Path, sheet: str | None = None) -> Table:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InvalidInput("Reading .xlsx needs openpyxl.") from exc
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise InvalidInput(f"{path.name} is not a readable .xlsx workbook ({exc}).") from exc
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        raw = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
    return _shape(raw, path.name, "xlsx", "")


def read_file(path: str | Path, sheet: str | None = None) -> Table:
    """Read a CSV / TSV / TXT or ``.xlsx`` file.

    Raises:
        InvalidInput: the file is missing, empty or not a table.
    """
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"No file at {p}.")
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        return read_xlsx(p, sheet)
    data = p.read_bytes()
    if data[:4] == b"PK\x03\x04":
        return read_xlsx(p, sheet)  # a workbook saved with the wrong extension
    if not data.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise InvalidInput(f"{p.name} is empty.")
    return read_text(data, p.name)
