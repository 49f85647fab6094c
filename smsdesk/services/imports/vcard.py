"""Reading ``.vcf`` files (vCard 2.1, 3.0 and 4.0) into plain cards, every card accounted for.

Phones, Google Contacts, Outlook and macOS Contacts all write vCards, each a little
differently: 2.1 (phones, Outlook) marks types as bare parameters (``TEL;CELL;PREF:``) and
writes non-ASCII names as quoted-printable with soft line breaks (a line ending in ``=``
continues on the next); 3.0 (Google, macOS) uses ``TYPE=CELL,VOICE`` and folds long lines by
starting the next with a space; 4.0 may give a number as a URI (``tel:+44-7911-123456``) with
``PREF=1``. The parsing itself is vobject's, a maintained parser (RFC 2425/2426/6350); two
things are done before it sees the text:

- the file is cut into ``BEGIN:VCARD`` ... ``END:VCARD`` blocks here, so one broken card is
  skipped with its reason and the others are still read;
- quoted-printable soft line breaks are joined, because vobject 0.9.9 takes the continuation
  line for a property of its own and fails on the card.

Photos and other binary properties are ignored. Nothing here knows about contacts in the
database: the contacts service decides which number is for texts and what is merged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from smsdesk.services.imports.encodings import decode

# Types that say a number takes texts; "pref" alone does not.
MOBILE_TYPES = frozenset({"cell", "mobile", "iphone", "text", "cellular"})
_BEGIN = re.compile(r"^BEGIN:VCARD\s*$", re.IGNORECASE)
_END = re.compile(r"^END:VCARD\s*$", re.IGNORECASE)
_QP = re.compile(r"ENCODING=QUOTED-PRINTABLE|;QUOTED-PRINTABLE[;:]", re.IGNORECASE)
# Binary properties: never needed, and their base64 bodies are most of a phone's export.
_SKIP_PROPS = ("PHOTO", "LOGO", "SOUND", "KEY")
_PROGRESS_EVERY = 500


@dataclass(frozen=True, slots=True)
class CardPhone:
    """One ``TEL`` of a card: the text as written, its types (lower case) and preference."""

    raw: str
    types: tuple[str, ...] = ()
    preferred: bool = False

    @property
    def mobile(self) -> bool:
        return any(t in MOBILE_TYPES for t in self.types)


@dataclass(frozen=True, slots=True)
class Card:
    """What smsdesk keeps of one vCard. ``position`` counts cards in the file from 1."""

    position: int
    full_name: str
    given_name: str = ""
    family_name: str = ""
    phones: tuple[CardPhone, ...] = ()
    emails: tuple[str, ...] = ()
    organisation: str = ""
    note: str = ""
    birthday: str = ""
    categories: tuple[str, ...] = ()

    @property
    def first_name(self) -> str:
        """For ``{{first_name}}``: the given name (N), else the first word of the full name."""
        if self.given_name:
            return self.given_name
        words = self.full_name.split()
        return words[0] if words else ""

    @property
    def name(self) -> str:
        """The name to show: FN, else given and family names, else the organisation."""
        return self.full_name or " ".join(p for p in (self.given_name, self.family_name) if p) or self.organisation


@dataclass(frozen=True, slots=True)
class SkippedCard:
    """A card that could not be read, with why (for the import's report)."""

    position: int
    reason: str
    excerpt: str = ""


@dataclass(slots=True)
class VCardFile:
    cards: list[Card] = field(default_factory=list)
    skipped: list[SkippedCard] = field(default_factory=list)
    encoding: str = "utf-8"

    @property
    def total(self) -> int:
        """Every card found in the file: read + skipped."""
        return len(self.cards) + len(self.skipped)


def looks_like_vcard(data: bytes) -> bool:
    """Whether ``data`` (a file's first bytes) starts like a vCard file."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 (rare, but Outlook can)
        head = data[:4096].decode("utf-16", errors="ignore").lstrip().upper().encode()
    return head.startswith(b"BEGIN:VCARD")


def read_vcards(data: bytes, country: str | None = None, progress: Callable[[int], None] | None = None) -> VCardFile:
    """Every card in ``data``; ``progress(cards_done)`` is called every few hundred cards.

    The file's text is decoded like a spreadsheet's (UTF-8 first, legacy code pages by
    ``country``); quoted-printable values carry their own ``CHARSET`` and are decoded by it.
    """
    decoded = decode(data, country)
    return read_text(decoded.text, decoded.encoding, 1, progress)


def read_text(
    text: str, encoding: str = "utf-8", first: int = 1, progress: Callable[[int], None] | None = None
) -> VCardFile:
    """Every card in decoded ``text``, numbered from ``first`` (a chunk of a bigger file)."""
    result = VCardFile(encoding=encoding)
    for position, block in enumerate(_blocks(text), start=first):
        if isinstance(block, SkippedCard):
            result.skipped.append(SkippedCard(position, block.reason, block.excerpt))
        else:
            card = _parse(position, block)
            if isinstance(card, SkippedCard):
                result.skipped.append(card)
            else:
                result.cards.append(card)
        if progress is not None and position % _PROGRESS_EVERY == 0:
            progress(position - first + 1)
    if progress is not None:
        progress(result.total)
    return result


def chunks(text: str, parts: int) -> list[tuple[int, str]]:
    """``text`` cut into about ``parts`` pieces at card starts, each with the number of its
    first card, so the pieces can be read apart (in parallel) and numbered as one file."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if _BEGIN.match(line.strip())]
    if len(starts) < 2 * parts or parts < 2:
        return [(1, text)]
    per = -(-len(starts) // parts)  # cards per piece, rounded up
    out: list[tuple[int, str]] = []
    for k in range(0, len(starts), per):
        begin = starts[k] if k else 0  # anything before the first card stays with it
        end = starts[k + per] if k + per < len(starts) else len(lines)
        out.append((k + 1, "".join(lines[begin:end])))
    return out


def _blocks(text: str) -> Iterator[list[str] | SkippedCard]:
    """The lines of each card (BEGIN..END), or a SkippedCard for a card that never ends."""
    current: list[str] | None = None
    for line in text.splitlines():
        if _BEGIN.match(line.strip()):
            if current is not None:
                yield SkippedCard(0, "the card has no END:VCARD line", _excerpt(current))
            current = [line.strip()]
        elif current is not None:
            current.append(line)
            if _END.match(line.strip()):
                yield current
                current = None
    if current is not None:
        yield SkippedCard(0, "the card has no END:VCARD line (the file may be cut short)", _excerpt(current))


def _excerpt(lines: list[str]) -> str:
    for line in lines:
        if line.upper().startswith(("FN", "N:", "N;")):
            return line[:80]
    return (lines[1] if len(lines) > 1 else lines[0])[:80] if lines else ""


def _prepare(lines: list[str]) -> str:
    """Join quoted-printable soft line breaks and drop binary properties (see module doc)."""
    out: list[str] = []
    i = 0
    skipping = False
    while i < len(lines):
        line = lines[i]
        if skipping and line[:1] in (" ", "\t"):
            i += 1
            continue
        skipping = False
        name = line.split(":", 1)[0].split(";", 1)[0].strip().upper()
        if name.rsplit(".", 1)[-1] in _SKIP_PROPS:  # "item1.PHOTO" too
            skipping = True
            i += 1
            continue
        if ":" in line and _QP.search(line.split(":", 1)[0] + ":"):
            while line.endswith("=") and i + 1 < len(lines):
                i += 1
                line = line[:-1] + lines[i].lstrip(" \t")
        out.append(line)
        i += 1
    return "\r\n".join(out) + "\r\n"


def _parse(position: int, lines: list[str]) -> Card | SkippedCard:
    import vobject  # imported on first use: only a vCard import needs it

    try:
        component = vobject.readOne(_prepare(lines))
    except Exception as exc:  # noqa: BLE001 - vobject raises several unrelated types
        return SkippedCard(position, f"the card could not be read ({_why(exc)})", _excerpt(lines))
    if component.name.upper() != "VCARD":
        return SkippedCard(position, f"this is a {component.name}, not a contact card", _excerpt(lines))
    contents = component.contents
    given = family = ""
    if "n" in contents:
        n = contents["n"][0].value
        given = _text(getattr(n, "given", ""))
        family = _text(getattr(n, "family", ""))
    full = _first(contents, "fn")
    organisation = ""
    if "org" in contents:
        org = contents["org"][0].value
        organisation = _text(org[0] if isinstance(org, list) and org else org)
    phones = tuple(p for p in (_phone(line) for line in contents.get("tel", [])) if p is not None)
    card = Card(
        position=position,
        full_name=full,
        given_name=given,
        family_name=family,
        phones=phones,
        emails=tuple(e for e in (_text(line.value) for line in contents.get("email", [])) if e),
        organisation=organisation,
        note=_first(contents, "note"),
        birthday=_first(contents, "bday"),
        categories=tuple(
            c for line in contents.get("categories", []) for c in (_text(v) for v in _list(line.value)) if c
        ),
    )
    if not card.name and not card.phones:
        return SkippedCard(position, "the card has no name and no phone number", _excerpt(lines))
    return card


def _phone(line: object) -> CardPhone | None:
    value = _text(getattr(line, "value", ""))
    if value.lower().startswith("tel:"):
        value = value[4:].split(";", 1)[0]  # "tel:+44-7911-123456;ext=12"
    value = value.strip()
    if not value:
        return None
    params: dict[str, list[str]] = getattr(line, "params", {}) or {}
    types: list[str] = []
    for raw in params.get("TYPE", []):
        types += [t.strip().strip('"').lower() for t in str(raw).split(",") if t.strip()]
    types += [str(t).lower() for t in getattr(line, "singletonparams", []) or []]  # 2.1: TEL;CELL;PREF
    preferred = "pref" in types or bool(params.get("PREF"))
    return CardPhone(value, tuple(t for t in types if t != "pref"), preferred)


def _first(contents: dict[str, list[object]], key: str) -> str:
    lines = contents.get(key) or []
    return _text(getattr(lines[0], "value", "")) if lines else ""


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, list):
        value = " ".join(_text(v) for v in value)
    return " ".join(str(value or "").split())


def _why(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = re.sub(r"^At line \d+: ", "", text)  # vobject's count, not the file's line
    text = re.sub(r"^Failed to parse line: ", "this line is not valid: ", text)
    return text[:120]
