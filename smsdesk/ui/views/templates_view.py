"""Templates: saved messages to reuse, with merge fields filled for each person.

The list (find one as you type) beside the editor: a name, a category ("Reminders",
"Quick replies"), the text with the same counter as Compose, and a preview of the message a
chosen contact would get, with the fields they have no value for named. New (Ctrl+N), Save
(Ctrl+S), Duplicate and Delete (asks first). Templates are inserted from Compose, the reply
box (quick replies) and elsewhere with Ctrl+T.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from smsdesk.domain.contacts import ContactQuery
from smsdesk.domain.errors import SmsdeskError
from smsdesk.domain.events import Changes
from smsdesk.services.templates import SavedTemplate
from smsdesk.ui import theme
from smsdesk.ui.aio import spawn
from smsdesk.ui.context import UiContext
from smsdesk.ui.dialogs import confirm
from smsdesk.ui.widgets.labels import WrapLabel
from smsdesk.ui.widgets.message_editor import MessageCounter, MessageEdit

FIELDS_HINT = (
    "Merge fields: {{first_name}}, {{last_name}}, {{name}}, and any custom field by its name "
    "({{appointment}}). Give a fallback for an empty value: {{first_name|there}}."
)


class TemplatesView(QWidget):
    def __init__(self, ctx: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._templates = ctx.services.templates
        self._contacts = ctx.services.contacts
        self.setObjectName("TemplatesView")
        self.current: SavedTemplate | None = None

        title = QLabel("Templates")
        title.setStyleSheet("font-size: 16px; font-weight: 600;")
        self.search = QLineEdit()
        self.search.setObjectName("template_search")
        self.search.setPlaceholderText("Find a template…")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setObjectName("template_list")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.new_button = QPushButton("New template")
        self.new_button.setObjectName("template_new")
        self.new_button.setToolTip("Start a new template (Ctrl+N)")
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.search)
        lv.addWidget(self.list, 1)
        lv.addWidget(self.new_button)

        self.name = QLineEdit()
        self.name.setObjectName("template_name")
        self.name.setPlaceholderText("e.g. Appointment reminder")
        self.category = QLineEdit()
        self.category.setObjectName("template_category")
        self.category.setPlaceholderText("e.g. Reminders, Quick replies (optional)")
        self.body = MessageEdit(objectName="template_body")
        self.body.setPlaceholderText("Hi {{first_name|there}}, see you tomorrow at {{appointment_time}}.")
        self.counter = MessageCounter(objectName="template_counter", merge_fields=True)
        self.counter.follow(self.body)
        hint = WrapLabel(FIELDS_HINT, objectName="template_fields_hint")
        theme.set_tone(hint, "muted")
        self.preview_for = QLineEdit()
        self.preview_for.setObjectName("template_preview_for")
        self.preview_for.setPlaceholderText("Type a contact's name to see their message")
        self.preview = WrapLabel(objectName="template_preview")
        self.feedback = WrapLabel(objectName="template_feedback")
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("template_save")
        self.save_button.setToolTip("Save (Ctrl+S)")
        self.duplicate_button = QPushButton("Duplicate")
        self.duplicate_button.setObjectName("template_duplicate")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setObjectName("template_delete")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Category", self.category)
        form.addRow("Message", self.body)
        form.addRow("", self.counter)
        form.addRow("", hint)
        form.addRow("Preview for", self.preview_for)
        form.addRow("", self.preview)
        buttons = QHBoxLayout()
        buttons.addWidget(self.feedback, 1)
        buttons.addWidget(self.duplicate_button)
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.save_button)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.addLayout(form)
        rv.addLayout(buttons)
        rv.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([300, 600])
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(splitter, 1)

        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(150)
        self._preview_timer.timeout.connect(self.update_preview)
        self.body.textChanged.connect(self._preview_timer.start)
        self.preview_for.textChanged.connect(lambda _t: self._preview_timer.start())
        self.body.sig_edited.connect(self.feedback.clear)
        self.search.textChanged.connect(lambda _t: self.reload())
        self.list.currentItemChanged.connect(lambda item, _prev: self._chosen(item))
        self.new_button.clicked.connect(self.new)
        self.save_button.clicked.connect(self.save)
        self.duplicate_button.clicked.connect(self.duplicate)
        self.delete_button.clicked.connect(self.ask_delete)
        for keys, slot in (("Ctrl+N", self.new), ("Ctrl+S", self.save)):
            QShortcut(QKeySequence(keys), self).activated.connect(slot)
        ctx.bridge.sig_changed.connect(self._on_changes)
        self.reload()
        self.new()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        target = self.name if self.current is None else self.body
        QTimer.singleShot(0, lambda: target.setFocus(Qt.FocusReason.OtherFocusReason))

    # ---- the list ----------------------------------------------------------------------
    def reload(self) -> None:
        keep = self.current.id if self.current is not None else None
        words = self.search.text().casefold().split()
        self.list.blockSignals(True)
        self.list.clear()
        for t in self._templates.templates():
            if all(w in f"{t.name} {t.category} {t.body}".casefold() for w in words):
                item = QListWidgetItem(f"{t.name}" + (f"  · {t.category}" if t.category else ""))
                item.setData(Qt.ItemDataRole.UserRole, t.id)
                item.setToolTip(t.body)
                self.list.addItem(item)
                if t.id == keep:
                    self.list.setCurrentItem(item)
        self.list.blockSignals(False)

    def names(self) -> list[str]:
        return [self.list.item(r).text().split("  · ")[0] for r in range(self.list.count())]

    def select(self, template_id: int) -> None:
        for r in range(self.list.count()):
            if int(self.list.item(r).data(Qt.ItemDataRole.UserRole)) == template_id:
                self.list.setCurrentRow(r)
                return

    def _chosen(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        try:
            t = self._templates.get(int(item.data(Qt.ItemDataRole.UserRole)))
        except SmsdeskError as exc:
            self._say(str(exc), "error")
            return
        self.current = t
        self.name.setText(t.name)
        self.category.setText(t.category)
        self.body.setPlainText(t.body)
        self._enable()
        self.feedback.clear()

    def _enable(self) -> None:
        self.duplicate_button.setEnabled(self.current is not None)
        self.delete_button.setEnabled(self.current is not None)

    # ---- new, save, duplicate, delete --------------------------------------------------
    def new(self) -> None:
        self.current = None
        self.list.clearSelection()
        self.list.setCurrentRow(-1)
        self.name.clear()
        self.category.clear()
        self.body.clear()
        self._enable()
        self.feedback.clear()
        self.name.setFocus(Qt.FocusReason.OtherFocusReason)

    def save(self) -> None:
        name, category, body = self.name.text(), self.category.text(), self.body.toPlainText()
        if self.current is None:
            spawn(
                self._templates.add(name, category, body),
                title="Save template",
                on_done=self._saved,
                on_error=self._failed,
            )
        else:
            tid = self.current.id
            spawn(
                self._templates.edit(tid, name, category, body),
                title="Save template",
                on_done=lambda _r: self._saved(tid),
                on_error=self._failed,
            )

    def _saved(self, template_id: int) -> None:
        self.reload()
        self.select(template_id)
        self._say(f"Saved '{self._templates.get(template_id).name}'.", "ok")

    def duplicate(self) -> None:
        if self.current is None:
            return
        spawn(self._templates.duplicate(self.current.id), title="Duplicate", on_done=self._saved, on_error=self._failed)

    def ask_delete(self) -> None:
        if self.current is None:
            return
        t = self.current
        confirm(
            self,
            "Delete template",
            f"Delete the template '{t.name}'?\n\nMessages already sent with it are not changed.",
            lambda: spawn(
                self._templates.remove(t.id),
                title="Delete template",
                on_done=lambda _r: self._deleted(t.name),
                on_error=self._failed,
            ),
            name="confirm_delete_template",
        )

    def _deleted(self, name: str) -> None:
        self.new()
        self.reload()
        self._say(f"Deleted '{name}'.", "ok")

    # ---- preview -----------------------------------------------------------------------
    def update_preview(self) -> None:
        text = self.body.toPlainText()
        who = self.preview_for.text().strip()
        if not text.strip():
            self.preview.setText("")
            return
        if not who:
            self.preview.setText("Type a contact's name above to see the message they would get.")
            theme.set_tone(self.preview, "muted")
            return
        rows = self._contacts.search(ContactQuery(text=who, limit=1), count=False).rows
        if not rows:
            self.preview.setText(f"No contact matches '{who}'.")
            theme.set_tone(self.preview, "muted")
            return
        contact = rows[0]
        rendered = self._templates.render(text, contact)
        name = contact.shown_name or contact.number
        if rendered.missing_fields:
            missing = ", ".join(rendered.missing_fields)
            self.preview.setText(f"{name} has no {missing}: give a fallback ({{{{field|…}}}}) or fill it in.")
            theme.set_tone(self.preview, "warn")
            return
        self.preview.setText(f"{name} gets: {rendered.text}")
        theme.set_tone(self.preview, "")

    # ---- results -----------------------------------------------------------------------
    def _on_changes(self, changes: Changes) -> None:
        if changes.templates or changes.everything:
            self.reload()

    def _failed(self, exc: BaseException) -> None:
        self._say(str(exc) if isinstance(exc, SmsdeskError) else f"Failed: {exc}", "error")

    def _say(self, text: str, tone: str) -> None:
        theme.set_tone(self.feedback, tone)
        self.feedback.setText(text)
