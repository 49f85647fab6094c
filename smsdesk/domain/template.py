"""Message templates with merge fields: ``Hi {{first_name|there}}, see you {{appointment}}``.

``{{field}}`` is replaced by the recipient's value; ``{{field|fallback}}`` uses ``fallback``
when the value is empty. Field names are matched loosely (case, spaces, dashes and
underscores do not matter) so ``{{First Name}}`` finds a column headed "first_name".

A template is compiled once into literal and field parts; rendering a row is then a list
join, cheap enough for 100,000 rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_FIELD = re.compile(r"\{\{\s*([^{}|]*?)\s*(?:\|([^{}]*))?\}\}")
_NORM = re.compile(r"[\s\-_.]+")


def field_key(name: str) -> str:
    """The canonical form of a field name: lower case, runs of space/dash/dot as one ``_``."""
    return _NORM.sub("_", (name or "").strip().lower()).strip("_")


@dataclass(frozen=True, slots=True)
class FieldRef:
    """One ``{{...}}`` occurrence: the field key and its fallback (None when there is none)."""

    key: str
    fallback: str | None


@dataclass(frozen=True, slots=True)
class Template:
    """A compiled template. Build with :func:`compile_template`."""

    text: str
    parts: tuple[str | FieldRef, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        """Field keys the template uses, in order of first use."""
        seen: dict[str, None] = {}
        for p in self.parts:
            if isinstance(p, FieldRef):
                seen.setdefault(p.key, None)
        return tuple(seen)

    @property
    def required_fields(self) -> tuple[str, ...]:
        """Fields used at least once without a fallback (an empty value there is a problem)."""
        seen: dict[str, None] = {}
        for p in self.parts:
            if isinstance(p, FieldRef) and p.fallback is None:
                seen.setdefault(p.key, None)
        return tuple(seen)

    @property
    def is_personalised(self) -> bool:
        return any(isinstance(p, FieldRef) for p in self.parts)

    @property
    def literal_text(self) -> str:
        """The fixed text alone (fields dropped), e.g. to see what the template itself costs."""
        return "".join(p for p in self.parts if isinstance(p, str))

    def render(self, values: Mapping[str, str]) -> str:
        """The text for one recipient. ``values`` is keyed by :func:`field_key` names."""
        out: list[str] = []
        for p in self.parts:
            if isinstance(p, str):
                out.append(p)
                continue
            value = (values.get(p.key) or "").strip()
            if not value and p.fallback is not None:
                value = p.fallback
            out.append(value)
        return "".join(out)

    def missing(self, values: Mapping[str, str]) -> tuple[str, ...]:
        """Required fields whose value is empty for this recipient."""
        return tuple(k for k in self.required_fields if not (values.get(k) or "").strip())


def compile_template(text: str) -> Template:
    """Split ``text`` into literal parts and field references.

    An unclosed ``{{`` is kept as literal text: the preview shows it, so the person sees it.
    """
    parts: list[str | FieldRef] = []
    pos = 0
    for m in _FIELD.finditer(text):
        if m.start() > pos:
            parts.append(text[pos : m.start()])
        key = field_key(m.group(1))
        if not key:
            parts.append(m.group(0))
        else:
            parts.append(FieldRef(key, m.group(2)))
        pos = m.end()
    if pos < len(text):
        parts.append(text[pos:])
    return Template(text, tuple(parts))


def fields_used(text: str) -> tuple[str, ...]:
    """Field keys a template text uses (convenience for views)."""
    return compile_template(text).fields
