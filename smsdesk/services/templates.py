"""Saved message templates: keep, reuse, and fill them for a contact.

A merge field with no value and no fallback is reported (:class:`Rendered` ``missing_fields``,
:meth:`TemplateService.check`) so a send can flag it before anything leaves; it is never sent
as ``{{field}}``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from smsdesk.domain.contacts import MAX_NAME, Contact, clean_text
from smsdesk.domain.errors import InvalidInput, NotFound
from smsdesk.domain.template import compile_template
from smsdesk.services.bus import EventBus
from smsdesk.storage.api import TemplateStore
from smsdesk.storage.records import AuditEntry, SavedTemplate

MAX_BODY = 1600  # ten segments of plain text: longer is surely a mistake


@dataclass(frozen=True, slots=True)
class Rendered:
    text: str
    missing_fields: tuple[str, ...]


class TemplateService:
    def __init__(self, templates: TemplateStore, bus: EventBus) -> None:
        self._templates = templates
        self.bus = bus

    def templates(self, category: str | None = None) -> list[SavedTemplate]:
        return self._templates.templates(category)

    def categories(self) -> list[str]:
        return self._templates.categories()

    def get(self, template_id: int) -> SavedTemplate:
        found = self._templates.get(template_id)
        if found is None:
            raise NotFound("That template no longer exists. It may have been deleted.")
        return found

    def by_name(self, name: str) -> SavedTemplate:
        """Raises:
        NotFound: no saved template has that name (any case).
        """
        found = self._templates.by_name(" ".join(name.split()))
        if found is None:
            raise NotFound(f"There is no saved template called '{name}'. See the list of templates for their names.")
        return found

    @staticmethod
    def _checked(name: str, category: str, body: str) -> tuple[str, str, str]:
        clean = clean_text(name, MAX_NAME)
        if not clean:
            raise InvalidInput("Give the template a name.")
        if not body.strip():
            raise InvalidInput("The template has no text. Write the message it should send.")
        if len(body) > MAX_BODY:
            raise InvalidInput(f"The template is {len(body)} characters long; keep it under {MAX_BODY}.")
        return clean, clean_text(category, MAX_NAME), body.strip()

    async def add(self, name: str, category: str, body: str) -> int:
        n, c, b = self._checked(name, category, body)
        tid = await self._templates.add(n, c, b, AuditEntry("template.add", n))
        return tid

    async def edit(self, template_id: int, name: str, category: str, body: str) -> None:
        n, c, b = self._checked(name, category, body)
        await self._templates.edit(template_id, n, c, b, AuditEntry("template.edit", n))

    async def duplicate(self, template_id: int) -> int:
        """A copy named "<name> (copy)", "<name> (copy 2)"..., returning its id."""
        original = self.get(template_id)
        taken = {t.name.casefold() for t in self._templates.templates()}
        name, n = f"{original.name} (copy)", 2
        while name.casefold() in taken:
            name, n = f"{original.name} (copy {n})", n + 1
        return await self.add(name, original.category, original.body)

    async def remove(self, template_id: int) -> None:
        original = self.get(template_id)
        await self._templates.remove(template_id, AuditEntry("template.remove", original.name))

    def render(self, template_or_text: SavedTemplate | str, contact: Contact) -> Rendered:
        """The message ``contact`` would get, and the fields it lacks (no value, no fallback)."""
        body = template_or_text.body if isinstance(template_or_text, SavedTemplate) else template_or_text
        compiled = compile_template(body)
        values = contact.merge_values()
        return Rendered(compiled.render(values), compiled.missing(values))

    def check(self, text: str, recipients: Iterable[Contact]) -> dict[int, tuple[str, ...]]:
        """Contact id -> fields the text needs that this contact has no value for."""
        compiled = compile_template(text)
        out: dict[int, tuple[str, ...]] = {}
        for c in recipients:
            missing = compiled.missing(c.merge_values())
            if missing:
                out[c.id] = missing
        return out
