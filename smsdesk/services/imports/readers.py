"""Reading whatever a spreadsheet export gave us into rows of text.

First, what the file is, by content (``filekind``): a workbook, text, or something that is no
spreadsheet at all (an image, a PDF, an archive, an old ``.xls``), which is refused in words.
Text is decoded by ``encodings`` (BOMs, UTF-16, UTF-8, then Windows-1252 unless the text or the
default country says otherwise; a doubtful reading says so in ``Table.encoding_doubt``).
Delimiters: comma, semicolon, tab or pipe, whichever splits the first lines most consistently.
Header row: the first non-blank row with as many cells as the data, when it labels the columns
below it (``cells.is_header``); title lines above it are skipped.

``.xlsx`` goes through openpyxl in read-only mode. Numeric cells are turned back into the
text a person saw (``447911123456`` not ``447911123456.0``); spreadsheet damage is judged
later (validate.py), from the text.
"""

from __future__ import annotations

import csv
import gc
import io
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.pacing import Pacer
from smsdesk.services.imports import filekind
from smsdesk.services.imports.cells import is_header
from smsdesk.services.imports.encodings import decode, label

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SNIFF_LINES = 50
_CHUNK = 256  # rows read, or squared up, between two ticks of the pacer
_PIECE = 1 << 18  # characters: copying 256 KB into a StringIO takes well under a millisecond


@dataclass(slots=True)
class Table:
    """A file as rows of text.

    Attributes:
        headers: one name per column (``Column N`` when the file has no header row).
        rows: data rows (header excluded); each padded/trimmed to ``len(headers)``.
        row_numbers: for each data row, its 1-based position after the header (blank rows
            are skipped, so numbers can have gaps; they still point at the file's record).
        encoding / delimiter: what was detected (``xlsx`` / ``""`` for workbooks); ``encoding``
            is a codec name (:func:`~smsdesk.services.imports.encodings.label` names it).
        encoding_doubt: empty, or a sentence saying the characters may have been read wrong.
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
    encoding_doubt: str = ""

    def preview(self, n: int = 10) -> list[list[str]]:
        return self.rows[:n]

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, self.delimiter or "none")

    @property
    def encoding_label(self) -> str:
        """ "Greek (Windows-1253)", or "Excel workbook"."""
        return "Excel workbook" if self.encoding == "xlsx" else label(self.encoding)


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


def _shape(raw: list[list[str]], source: str, encoding: str, delimiter: str, region: str | None = None) -> Table:
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
    has_header = is_header(first, [r for _, r in numbered[start + 1 : start + 1 + _SNIFF_LINES]], region)
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
    pacer = Pacer(every=1)
    for start in range(0, len(data), _CHUNK):
        pacer.tick()
        for idx, r in data[start : start + _CHUNK]:
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


def read_text(data: bytes, source: str = "", encoding: str | None = None, country: str | None = None) -> Table:
    """A text export as a table (``encoding`` forces a codec; ``country`` hints at one)."""
    decoded = decode(data, country, encoding)
    text = decoded.text
    if text.endswith("\x1a"):
        text = text[:-1]  # the end-of-file mark old DOS programs wrote
    delimiter = sniff_delimiter(text)
    # In chunks of rows, not list(reader): list() would hold the GIL for the whole file and
    # freeze the GUI thread while a worker thread reads 100,000 rows; between chunks the pacer
    # leaves the GUI thread the interpreter now and then (domain.pacing).
    raw: list[list[str]] = []
    rows = csv.reader(_lines(text), delimiter=delimiter)
    pacer = Pacer(every=1)
    with gc_paused():
        while chunk := list(islice(rows, _CHUNK)):
            raw += chunk
            pacer.tick()
    table = _shape(raw, source, decoded.encoding, delimiter, country)
    table.encoding_doubt = decoded.doubt
    return table


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` as ``io.StringIO(text, newline="")`` gives them, from pieces cut
    after a ``\n``: one StringIO over a whole 100,000-row file is a 7 ms copy that holds the
    GIL (and the GUI thread waits), a piece is a fraction of a millisecond. A cut after
    ``\n`` never splits a ``\r\n``; a quoted value running over a cut is read on as over any
    other line end. Each piece's lines come straight from its StringIO (``chain``)."""
    return chain.from_iterable(_pieces(text))


def _pieces(text: str) -> Iterator[io.StringIO]:
    start = 0
    while start < len(text):
        cut = text.rfind("\n", start, start + _PIECE) + 1 if start + _PIECE < len(text) else len(text)
        if cut <= start:  # no line end within the piece: a very long line (or none at all)
            found = text.find("\n", start + _PIECE)
            cut = len(text) if found < 0 else found + 1
        yield io.StringIO(text[start:cut], newline="")
        start = cut


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


def read_xlsx(path: Path, sheet: str | None = None, country: str | None = None, data: bytes | None = None) -> Table:
    try:
        import openpyxl
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise InvalidInput("Reading .xlsx needs openpyxl.") from exc
    try:
        # A file object: openpyxl refuses a path whose name does not end in .xlsx (a workbook
        # saved as "list.csv" is still a workbook).
        wb = openpyxl.load_workbook(
            io.BytesIO(path.read_bytes() if data is None else data), read_only=True, data_only=True
        )
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise InvalidInput(f"{path.name} is not a readable .xlsx workbook ({exc}).") from exc
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        raw = []
        pacer = Pacer()
        for row in ws.iter_rows(values_only=True):
            raw.append([_cell_text(v) for v in row])
            pacer.tick()
    finally:
        wb.close()
    return _shape(raw, path.name, "xlsx", "", country)


def read_file(
    path: str | Path, sheet: str | None = None, *, encoding: str | None = None, country: str | None = None
) -> Table:
    """Read a CSV / TSV / TXT or ``.xlsx`` file, whatever its name says.

    Args:
        path: the file.
        sheet: a workbook's sheet (default: the first).
        encoding: a codec the person chose (default: detected).
        country: the default country, a hint for the encoding and for telling phone numbers
            from other numbers in the header check.

    Raises:
        InvalidInput: the file is missing, empty, or not a table (an image, a PDF, an
            archive, an old .xls...), with what it is and what to do.
    """
    p = Path(path)
    if not p.is_file():
        raise InvalidInput(f"No file at {p}.")
    data = p.read_bytes()
    if not data.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe\x1a"):
        raise InvalidInput(f"{p.name} is empty.")
    if filekind.kind_of(p, data) == filekind.XLSX:
        return read_xlsx(p, sheet, country, data)
    return read_text(data, p.name, encoding, country)
