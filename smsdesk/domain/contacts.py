"""The address book's values: contacts, their numbers, typed custom fields, groups and the
filters that define smart groups.

Pure (no I/O). A contact has one or more numbers (+E.164), exactly one of them marked for
texts; its custom fields are text keyed by a defined field's name, each field typed
(:class:`FieldKind`): dates are kept as ``YYYY-MM-DD`` and numbers as plain decimal text, so
they compare and sort as text wherever they are stored. A smart group is a
:class:`GroupFilter`: every one of its conditions must hold; it serialises to JSON (stored
with the group) and describes itself in words for the person ("tag is VIP and appointment
is tomorrow").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.template import field_key

MAX_NAME = 80
MAX_FIELD_NAME = 40
MAX_VALUE = 500
MAX_TAG = 40
MAX_NOTES = 5000

# Merge-field keys every contact has; a custom field may not take one of these names.
BUILT_IN_KEYS = frozenset(
    {"name", "first_name", "last_name", "given_name", "family_name", "number", "phone", "mobile", "tags", "notes"}
)


class FieldKind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"


@dataclass(frozen=True, slots=True)
class FieldDef:
    """A custom field every contact may fill: its name as shown and its kind."""

    name: str
    kind: FieldKind = FieldKind.TEXT

    @property
    def key(self) -> str:
        """The merge-field key (``Appointment date`` -> ``appointment_date``)."""
        return field_key(self.name)


def clean_text(text: str, limit: int) -> str:
    """``text`` on one line, runs of white space as one space, cut to ``limit`` characters."""
    return " ".join((text or "").split())[:limit]


def check_field_name(name: str) -> str:
    """A custom field's name as it will be kept.

    Raises:
        InvalidInput: empty, too long, with quotes, or one of the built-in names.
    """
    clean = clean_text(name, 200)
    if not clean or not field_key(clean):
        raise InvalidInput("A custom field needs a name (for example 'Appointment').")
    if len(clean) > MAX_FIELD_NAME:
        raise InvalidInput(f"The field name '{clean[:50]}...' is too long: use at most {MAX_FIELD_NAME} characters.")
    if any(c in clean for c in '"\\{}|'):
        raise InvalidInput(f"The field name '{clean}' may not contain quotes, braces, '|' or '\\'.")
    if field_key(clean) in BUILT_IN_KEYS:
        raise InvalidInput(f"'{clean}' is already part of every contact; give the custom field another name.")
    return clean


_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")


def normalise_value(kind: FieldKind, text: str, field_name: str = "", day_first: bool = True) -> str:
    """A custom field's value as stored: dates as ``YYYY-MM-DD``, numbers as decimal text.

    An empty value stays empty (the field is not filled). ``day_first``: how ``03/04/2027``
    reads (3 April, as in most countries; False for the United States' 4 March).

    Raises:
        InvalidInput: the value is not of the field's kind, saying what is expected.
    """
    value = " ".join((text or "").split())
    if not value:
        return ""
    label = f"'{field_name}'" if field_name else "this field"
    if kind == FieldKind.NUMBER:
        digits = value.replace(" ", "").replace("\u00a0", "")
        if digits.count(",") == 1 and "." not in digits and len(digits.split(",")[1]) != 3:
            digits = digits.replace(",", ".")  # "12,5": a decimal comma
        digits = digits.replace(",", "")  # "1,250": a thousands separator
        try:
            number = Decimal(digits)
        except InvalidOperation:
            raise InvalidInput(f"{label} holds numbers; '{value}' is not a number.") from None
        if not number.is_finite():
            raise InvalidInput(f"{label} holds numbers; '{value}' is not a number.")
        return format(number.normalize(), "f") if number == number.to_integral() else format(number, "f")
    if kind == FieldKind.DATE:
        return _date_text(value, label, day_first)
    return value[:MAX_VALUE]


def _date_text(value: str, label: str, day_first: bool) -> str:
    parts: tuple[int, int, int] | None = None
    m = _ISO.match(value)
    if m:
        parts = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    else:
        m = _DMY.match(value)
        if m:
            a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
            parts = (year, b, a) if day_first else (year, a, b)
    if parts is None:
        raise InvalidInput(f"{label} holds dates; write '{value}' as YYYY-MM-DD (for example 2027-03-14).")
    try:
        return date(*parts).isoformat()
    except ValueError:
        raise InvalidInput(f"{label} holds dates; '{value}' is not a date in the calendar.") from None


def clean_tag(tag: str) -> str:
    """A tag as kept: one line, at most 40 characters, no commas (they separate tags)."""
    return clean_text(tag.replace(",", " "), MAX_TAG)


@dataclass(frozen=True, slots=True)
class ContactNumber:
    """One number of a contact: +E.164, a label ("mobile", "work"), and whether texts go to it."""

    number: str
    label: str = ""
    for_sms: bool = False


@dataclass(frozen=True, slots=True)
class Consent:
    """When and how a contact agreed to receive marketing messages."""

    at: str  # ISO date or date-time
    how: str = ""  # "signed up in the salon", "web form", ...


@dataclass(frozen=True, slots=True)
class Contact:
    """A person (or business) in the address book.

    Attributes:
        numbers: every number, the one for texts marked ``for_sms`` (first in the tuple).
        fields: custom field values by the defined field's name (dates ``YYYY-MM-DD``).
        opted_out: how the number for texts came onto the opt-out list, None when it did not.
    """

    id: int
    name: str
    given_name: str = ""
    family_name: str = ""
    numbers: tuple[ContactNumber, ...] = ()
    tags: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    consent: Consent | None = None
    opted_out: str | None = None
    created_at: str = ""
    updated_at: str = ""

    @property
    def number(self) -> str:
        """The number texts go to (+E.164), "" for a contact without one."""
        for n in self.numbers:
            if n.for_sms:
                return n.number
        return self.numbers[0].number if self.numbers else ""

    @property
    def shown_name(self) -> str:
        """The name to show: the name, else given and family names joined, else ""."""
        return self.name or " ".join(p for p in (self.given_name, self.family_name) if p)

    @property
    def first_name(self) -> str:
        """For ``{{first_name}}``: the given name, else the first word of the name."""
        if self.given_name:
            return self.given_name
        words = self.name.split()
        return words[0] if words else ""

    @property
    def last_name(self) -> str:
        """For ``{{last_name}}``: the family name, else the last word of a name of several words."""
        if self.family_name:
            return self.family_name
        words = self.name.split()
        return words[-1] if len(words) > 1 else ""

    def merge_values(self) -> dict[str, str]:
        """Values for a message template, keyed like :func:`smsdesk.domain.template.field_key`:
        ``name``, ``first_name``, ``last_name``, ``number`` and every custom field by name."""
        values = {field_key(k): v for k, v in self.fields.items() if v}
        values.update(
            name=self.shown_name,
            first_name=self.first_name,
            last_name=self.last_name,
            given_name=self.given_name,
            family_name=self.family_name,
            number=self.number,
        )
        return values

    def to_draft(self) -> ContactDraft:
        """This contact as a form shows it, to edit a part and save the whole."""
        sms = next((i for i, n in enumerate(self.numbers) if n.for_sms), 0)
        return ContactDraft(
            name=self.name,
            given_name=self.given_name,
            family_name=self.family_name,
            numbers=tuple(DraftNumber(n.number, n.label) for n in self.numbers),
            sms=sms if self.numbers else None,
            tags=self.tags,
            fields=dict(self.fields),
            notes=self.notes,
            consent=self.consent,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.shown_name,
            "given_name": self.given_name,
            "family_name": self.family_name,
            "number": self.number,
            "numbers": [{"number": n.number, "label": n.label, "for_sms": n.for_sms} for n in self.numbers],
            "tags": list(self.tags),
            "fields": dict(self.fields),
            "notes": self.notes,
            "consent": {"at": self.consent.at, "how": self.consent.how} if self.consent else None,
            "opted_out": self.opted_out,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(frozen=True, slots=True)
class DraftNumber:
    """A number as typed or imported (not yet checked) and its label."""

    raw: str
    label: str = ""


@dataclass(frozen=True, slots=True)
class ContactDraft:
    """What a form or an import row gives for one contact, before it is checked.

    Attributes:
        sms: index in ``numbers`` of the number for texts; None: the first that takes texts.
        fields: custom field values by field name (checked against each field's kind).
    """

    name: str = ""
    given_name: str = ""
    family_name: str = ""
    numbers: tuple[DraftNumber, ...] = ()
    sms: int | None = None
    tags: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    notes: str = ""
    consent: Consent | None = None


# ---- finding contacts ----------------------------------------------------------------------
class ContactSort(StrEnum):
    NAME = "name"
    NUMBER = "number"
    CREATED = "created"
    UPDATED = "updated"


@dataclass(frozen=True, slots=True)
class ContactQuery:
    """One page of the address book: what to find, how to sort it, which rows.

    Attributes:
        text: part of a name, a number (as people write it) or any field value.
        group_id: only the members of this group (a smart group's current members).
        tag: only contacts with this tag.
        opted_out: True / False: only contacts whose number for texts is / is not opted out.
    """

    text: str = ""
    group_id: int | None = None
    tag: str | None = None
    opted_out: bool | None = None
    sort: ContactSort = ContactSort.NAME
    descending: bool = False
    offset: int = 0
    limit: int = 100


@dataclass(frozen=True, slots=True)
class ContactPage:
    """The rows of one page and how many contacts match in all."""

    rows: tuple[Contact, ...]
    total: int


@dataclass(frozen=True, slots=True)
class AsOf:
    """The moment a smart group is evaluated: the business's local date (for "tomorrow") and
    now in UTC (for "replied in the last 30 days")."""

    today: date
    now: datetime


# ---- smart groups --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HasTag:
    tag: str


@dataclass(frozen=True, slots=True)
class FieldEquals:
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class FieldContains:
    field: str
    value: str


@dataclass(frozen=True, slots=True)
class DateWithin:
    """A date field between today + ``start`` and today + ``end`` days (both included).

    ``(1, 1)`` is "tomorrow", ``(0, 7)`` "in the next 7 days", ``(-30, 0)`` "in the last 30
    days". ``yearly`` compares month and day only ("birthday is today").
    """

    field: str
    start: int
    end: int
    yearly: bool = False


@dataclass(frozen=True, slots=True)
class RepliedWithin:
    days: int


@dataclass(frozen=True, slots=True)
class IsOptedOut:
    yes: bool = True


@dataclass(frozen=True, slots=True)
class HasConsent:
    yes: bool = True


Condition = HasTag | FieldEquals | FieldContains | DateWithin | RepliedWithin | IsOptedOut | HasConsent
MAX_DAYS = 3660


@dataclass(frozen=True, slots=True)
class GroupFilter:
    """A smart group's rule: every condition holds (an empty filter: everyone)."""

    conditions: tuple[Condition, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"all": [_condition_json(c) for c in self.conditions]}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> GroupFilter:
        """Raises:
        InvalidInput: the text is not a filter this version understands.
        """
        try:
            data = json.loads(text)
            items = data["all"]
            if not isinstance(items, list):
                raise TypeError("'all' is not a list")
            return cls(tuple(_condition_from(item) for item in items))
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput(f"This smart group's rule cannot be read ({exc}).") from None

    def describe(self) -> str:
        """The rule in words: "tag is VIP and appointment is tomorrow"."""
        if not self.conditions:
            return "everyone"
        return " and ".join(describe_condition(c) for c in self.conditions)

    @property
    def fields(self) -> tuple[str, ...]:
        """The custom fields the rule reads."""
        return tuple(c.field for c in self.conditions if isinstance(c, FieldEquals | FieldContains | DateWithin))


def _condition_json(c: Condition) -> dict[str, Any]:
    match c:
        case HasTag(tag):
            return {"tag": tag}
        case FieldEquals(name, value):
            return {"field": name, "equals": value}
        case FieldContains(name, value):
            return {"field": name, "contains": value}
        case DateWithin(name, start, end, yearly):
            return {"field": name, "from_days": start, "to_days": end, "yearly": yearly}
        case RepliedWithin(days):
            return {"replied_within_days": days}
        case IsOptedOut(yes):
            return {"opted_out": yes}
        case HasConsent(yes):
            return {"consent": yes}
    raise TypeError(f"not a condition: {c!r}")  # pragma: no cover - exhaustive above


def _condition_from(item: Any) -> Condition:
    if not isinstance(item, dict):
        raise TypeError("a condition is not an object")
    if "tag" in item:
        return HasTag(str(item["tag"]))
    if "field" in item and "equals" in item:
        return FieldEquals(str(item["field"]), str(item["equals"]))
    if "field" in item and "contains" in item:
        return FieldContains(str(item["field"]), str(item["contains"]))
    if "field" in item and "from_days" in item:
        return check_date_range(
            DateWithin(str(item["field"]), int(item["from_days"]), int(item["to_days"]), bool(item.get("yearly")))
        )
    if "replied_within_days" in item:
        days = int(item["replied_within_days"])
        if not 1 <= days <= MAX_DAYS:
            raise ValueError("replied_within_days out of range")
        return RepliedWithin(days)
    if "opted_out" in item:
        return IsOptedOut(bool(item["opted_out"]))
    if "consent" in item:
        return HasConsent(bool(item["consent"]))
    raise ValueError(f"unknown condition {sorted(item)}")


def check_date_range(c: DateWithin) -> DateWithin:
    """Raises:
    InvalidInput: the range is upside down or wider than ten years.
    """
    if c.start > c.end:
        raise InvalidInput(f"'{c.field}': the range starts after it ends ({c.start} > {c.end} days).")
    if abs(c.start) > MAX_DAYS or abs(c.end) > MAX_DAYS:
        raise InvalidInput(f"'{c.field}': a range of at most {MAX_DAYS} days either side of today.")
    return c


def _days(n: int) -> str:
    return "1 day" if abs(n) == 1 else f"{abs(n)} days"


def _when(start: int, end: int) -> str:
    named = {0: "today", 1: "tomorrow", -1: "yesterday"}
    if start == end:
        if start in named:
            return f"is {named[start]}"
        return f"is in {_days(start)}" if start > 0 else f"was {_days(start)} ago"
    if start == 0 and end > 0:
        return f"is in the next {_days(end)}"
    if end == 0 and start < 0:
        return f"was in the last {_days(start)}"
    if start >= 0:
        return f"is between {start} and {end} days from now"
    if end <= 0:
        return f"was between {-end} and {-start} days ago"
    return f"is between {_days(start)} ago and {_days(end)} from now"


def describe_condition(c: Condition) -> str:
    match c:
        case HasTag(tag):
            return f"tag is {tag}"
        case FieldEquals(name, value):
            return f"{name} is {value}" if value else f"{name} is empty"
        case FieldContains(name, value):
            return f"{name} contains '{value}'"
        case DateWithin(name, start, end, yearly):
            return f"{name} {_when(start, end)}" + (" (any year)" if yearly and name.lower() != "birthday" else "")
        case RepliedWithin(days):
            return "replied in the last day" if days == 1 else f"replied in the last {days} days"
        case IsOptedOut(yes):
            return "opted out" if yes else "not opted out"
        case HasConsent(yes):
            return "consent given" if yes else "no consent given"
    raise TypeError(f"not a condition: {c!r}")  # pragma: no cover - exhaustive above


@dataclass(frozen=True, slots=True)
class Group:
    """A list of contacts: a plain list (members added by hand or by an import) or a smart
    group, whose members are whoever its filter matches whenever it is asked."""

    id: int
    name: str
    filter: GroupFilter | None = None
    size: int = 0
    created_at: str = ""
    updated_at: str = ""

    @property
    def smart(self) -> bool:
        return self.filter is not None

    @property
    def rule(self) -> str:
        """The smart group's rule in words, "" for a plain list."""
        return self.filter.describe() if self.filter is not None else ""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "smart": self.smart,
            "rule": self.rule,
            "filter": json.loads(self.filter.to_json()) if self.filter is not None else None,
            "size": self.size,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
