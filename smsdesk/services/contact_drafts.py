"""From what a person typed (or a file gave) to a contact the store can keep.

:func:`check_draft` turns a :class:`~smsdesk.domain.contacts.ContactDraft` into a
:class:`~smsdesk.storage.records.NewContact`: numbers to +E.164 (the one for texts chosen
when the draft does not say), names and tags tidied, custom field values checked against
their field's kind. :func:`search_text` turns search-box text into the store's form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from smsdesk.domain import phone
from smsdesk.domain.contacts import (
    MAX_NAME,
    MAX_NOTES,
    AsOf,
    Consent,
    ContactDraft,
    ContactNumber,
    FieldDef,
    FieldKind,
    check_field_name,
    clean_tag,
    clean_text,
    normalise_value,
)
from smsdesk.domain.errors import InvalidInput
from smsdesk.domain.template import field_key
from smsdesk.storage.records import NewContact

MAX_LABEL = 20
# Countries that write the month first (03/04/2027 is 4 March).
MONTH_FIRST = frozenset({"US", "PH", "FM", "MH", "PW", "AS", "GU", "MP", "PR", "VI", "UM"})
_PHONEISH = re.compile(r"^[+\d][\d\s()\-./]*$")


def day_first(region: str) -> bool:
    return region.upper() not in MONTH_FIRST


def clean_label(label: str) -> str:
    return clean_text(label, MAX_LABEL).lower()


def check_consent(consent: Consent | None, region: str) -> Consent | None:
    """Consent as kept: ``at`` an ISO date or date-time (a date typed the local way is read).

    Raises:
        InvalidInput: ``at`` is not a date.
    """
    if consent is None or not (consent.at or "").strip():
        return None
    at = consent.at.strip()
    if "T" not in at and ":" not in at:
        at = normalise_value(FieldKind.DATE, at, "consent date", day_first(region))
    else:
        normalise_value(FieldKind.DATE, at.replace("T", " ").split(" ")[0], "consent date", day_first(region))
    return Consent(at, clean_text(consent.how, 200))


def check_fields(values: Mapping[str, str], defs: Sequence[FieldDef], region: str) -> dict[str, str]:
    """Custom field values keyed by the defined field's name, each checked against its kind;
    a field not defined yet is a text field of that name.

    Raises:
        InvalidInput: a value is not of its field's kind, or a name cannot be a field.
    """
    by_key = {d.key: d for d in defs}
    out: dict[str, str] = {}
    for name, value in values.items():
        known = by_key.get(field_key(name))
        if known is None:
            known = FieldDef(check_field_name(name), FieldKind.TEXT)
        out[known.name] = normalise_value(known.kind, value, known.name, day_first(region))
    return {k: v for k, v in out.items() if v}


def check_draft(draft: ContactDraft, defs: Sequence[FieldDef], region: str) -> NewContact:
    """A draft as the store keeps it.

    Raises:
        InvalidInput: no number, a number that is not one (InvalidNumber), a bad field value.
    """
    numbers: list[tuple[phone.PhoneNumber, str]] = []
    seen: set[str] = set()
    sms_raw = draft.numbers[draft.sms] if draft.sms is not None and 0 <= draft.sms < len(draft.numbers) else None
    sms_number: str | None = None
    for d in draft.numbers:
        if not d.raw.strip():
            continue
        parsed = phone.parse(d.raw, region)
        if d is sms_raw:
            sms_number = parsed.e164
        if parsed.e164 not in seen:
            seen.add(parsed.e164)
            numbers.append((parsed, clean_label(d.label)))
    if not numbers:
        raise InvalidInput("A contact needs a phone number.")
    if sms_number is None:
        # Texts go to the first mobile number, else the first number.
        sms_number = next((p.e164 for p, _ in numbers if p.mobile), numbers[0][0].e164)
    ordered = sorted(numbers, key=lambda pn: pn[0].e164 != sms_number)
    tags: dict[str, str] = {}
    for t in draft.tags:
        tag = clean_tag(t)
        if tag:
            tags.setdefault(tag.lower(), tag)
    name = clean_text(draft.name, MAX_NAME)
    given = clean_text(draft.given_name, MAX_NAME)
    family = clean_text(draft.family_name, MAX_NAME)
    return NewContact(
        name=name or clean_text(f"{given} {family}", MAX_NAME),
        given_name=given,
        family_name=family,
        numbers=tuple(ContactNumber(p.e164, label, p.e164 == sms_number) for p, label in ordered),
        tags=tuple(tags.values()),
        fields=check_fields(draft.fields, defs, region),
        notes=(draft.notes or "").strip()[:MAX_NOTES],
        consent=check_consent(draft.consent, region),
    )


def search_text(text: str, region: str) -> str:
    """Search-box text in the store's form: numbers as typed become ``+<digits>`` (a start of
    +E.164: "07911" in Britain is "+447911", "+44 79" is "+4479") or plain digits (part of a
    number: "123456"); anything else is words."""
    t = (text or "").strip()
    if not t or not _PHONEISH.match(t) or not any(c.isdigit() for c in t):
        return t
    digits = re.sub(r"\D", "", t)
    if t.startswith("+"):
        return "+" + digits
    if digits.startswith("00") and len(digits) > 2:
        return "+" + digits[2:]
    if digits.startswith("0") and region:
        import phonenumbers  # on first use (see smsdesk.domain.phone)

        md = phonenumbers.PhoneMetadata.metadata_for_region(region.upper(), None)
        if md is not None and md.national_prefix == "0":
            return f"+{md.country_code}{digits[1:]}"
    return digits


def as_of() -> AsOf:
    """Now, for smart groups: the local date ("tomorrow") and the UTC moment."""
    now = datetime.now(UTC)
    return AsOf(now.astimezone().date(), now)
