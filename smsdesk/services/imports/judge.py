"""The half of validation that needs no other row, which worker processes can do.

Validation (``validate.py``) has two halves:

- **Judging a row on its own**: its number parsed and checked, its message rendered and its
  parts counted. This is most of the CPU of a big import, and rows can be judged in any
  order, in other processes (:func:`judge_rows`).
- **Deciding what depends on other rows or on this computer's lists**: duplicates (the
  rows before it), opt-outs, saved contacts, whether landlines are allowed. A quick pass in
  file order over the judged rows, in ``validate.py``.

Everything here is a plain function of plain, picklable values, so a spawn-started worker
process (:mod:`smsdesk.services.cpu_pool`) can run it; the results come back a chunk at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from smsdesk.domain.segments import GSM7, GSM7_BASIC, GSM7_EXTENSION, UCS2, analyze
from smsdesk.domain.template import Template
from smsdesk.services.imports.numbers import check_number

_GSM_ALL = GSM7_BASIC | GSM7_EXTENSION


def fast_segments(text: str) -> tuple[int, str]:
    """``(segments, encoding)`` with C-speed checks for the common one-part cases."""
    if _GSM_ALL.issuperset(text):
        units = len(text)
        if units <= 80 or units + sum(text.count(c) for c in GSM7_EXTENSION if c in text) <= 160:
            return (1 if text else 0), GSM7
    elif len(text) <= 35 or (len(text) <= 70 and len(text.encode("utf-16-le")) <= 140):
        return (1 if text else 0), UCS2
    info = analyze(text)
    return info.segments, info.encoding


@dataclass(frozen=True, slots=True)
class RowRules:
    """What judging one row needs: where its values are and the message to render.
    Build with :meth:`of` (it works out once what every row would otherwise ask again)."""

    phone_col: int | None
    region: str | None
    template: Template | None
    fields: tuple[tuple[str, int], ...]  # merge-field key -> column index
    first_word: tuple[str, ...]  # keys that take only the first word of their column
    required: tuple[str, ...]  # the template's fields without a fallback
    personal: bool  # the template has merge fields (else every row gets the same text)

    @classmethod
    def of(
        cls,
        phone_col: int | None,
        region: str | None,
        template: Template | None = None,
        fields: Mapping[str, int] | None = None,
        first_word: Iterable[str] = (),
    ) -> RowRules:
        fields = dict(fields or {})
        personal = template is not None and template.is_personalised
        required = template.required_fields if template is not None else ()
        first = tuple(k for k in first_word if k in fields)
        return cls(phone_col, region, template, tuple(fields.items()), first, required, personal)


# One row's message: (text, segments, encoding, missing). ``missing`` is "" or the required
# fields empty in this row ("{{first_name}}, {{town}}"), and then the rest is None. A plain
# tuple: one is built for each of 100,000 rows, and a NamedTuple costs a Python call more.
Message = tuple[str | None, int | None, str | None, str]


# One row judged on its own: the fields of its number's :class:`NumberCheck` (e164, mobile,
# code, detail, repair), then its message (None without a template or a usable number).
# Plain tuples of plain values: the window unpickles 100,000 of them, and a NamedTuple (or
# a NumberCheck inside) would cost a Python call each there.
Judged = tuple[str | None, bool | None, str | None, str, str | None, Message | None]


def phone_cell(row: Sequence[str], rules: RowRules) -> str:
    col = rules.phone_col
    return row[col] if col is not None and col < len(row) else ""


def fixed_message(rules: RowRules) -> Message | None:
    """The message of every row when the template has no merge fields (None: no template)."""
    if rules.template is None or rules.personal:
        return None
    text = rules.template.render({})
    segments, encoding = fast_segments(text)
    return text, segments, encoding, ""


def row_message(row: Sequence[str], rules: RowRules, fixed: Message | None) -> Message | None:
    """The message for ``row``: ``fixed`` when the template is the same for everyone."""
    template = rules.template
    if template is None or fixed is not None:
        return fixed
    values = {k: row[i] for k, i in rules.fields if i < len(row)}
    for k in rules.first_word:
        words = values.get(k, "").split()
        values[k] = words[0] if words else ""
    missing = [k for k in rules.required if not values.get(k, "").strip()]
    if missing:
        return None, None, None, ", ".join("{{" + k + "}}" for k in missing)
    text = template.render(values)
    segments, encoding = fast_segments(text)
    return text, segments, encoding, ""


def judge_rows(rows: Sequence[Sequence[str]], rules: RowRules) -> list[Judged]:
    """Judge each of ``rows`` on its own (a worker process runs this on a chunk of a file)."""
    fixed = fixed_message(rules)
    region = rules.region
    out: list[Judged] = []
    append = out.append
    for row in rows:
        number = check_number(phone_cell(row, rules), region)
        append((*number, row_message(row, rules, fixed) if number.e164 is not None else None))
    return out


def warm() -> None:
    """Load what judging needs (a worker process's start: ``phonenumbers``' metadata included)."""
    check_number("07700 900123", "GB")
