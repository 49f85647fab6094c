"""No jargon on the main screens: technical account fields wait in a closed "Advanced" section
built from the providers' declarations, and Compose says what an account's Unicode mode does
in words (the setting's name is in the tooltip)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from smsdesk.providers import registry
from smsdesk.ui.views.accounts_view import AccountsView
from smsdesk.ui.views.compose_view import ComposeView
from tests.support.typing import type_text


def _accounts_page(gui) -> AccountsView:
    settings = gui.window.show_page("settings")
    settings.show_tab("accounts")
    view = settings.by_key["accounts"]
    assert isinstance(view, AccountsView)
    return view


def _on_screen(widget: QWidget) -> str:
    """Every label's and button's words that a person can see in ``widget``."""
    parts = [w.text() for w in widget.findChildren(QLabel) if w.isVisible()]
    parts += [w.text() for w in widget.findChildren(QAbstractButton) if w.isVisible()]
    return "\n".join(parts)


def _choose(qtbot, combo, data: str) -> None:
    """Pick an entry with the keyboard, as a person tabbing through the form would."""
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    for _ in range(combo.count()):
        if combo.currentData() == data:
            return
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentData() == data


def test_technical_fields_wait_in_a_closed_advanced_section_built_from_the_declarations(gui, qtbot) -> None:
    view = _accounts_page(gui)
    for spec in registry.specs():
        if spec.id == "sandbox":
            continue  # made by smsdesk itself, never from "New account"
        qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
        _choose(qtbot, view.provider, spec.id)
        advanced = [f.name for f in spec.fields if f.advanced]
        first = view.inputs[next(f.name for f in spec.fields if not f.advanced)]
        gui.wait_until(first.isVisible)  # (Qt shows new rows on its next pass)
        assert view.advanced.isVisible() == bool(advanced), spec.id
        assert not view.advanced.is_expanded()
        for fld in spec.fields:
            assert view.inputs[fld.name].isVisible() is not fld.advanced, (spec.id, fld.name)
    # Tuning, polling and Unicode mode are declared advanced for every provider that has them.
    for spec in registry.specs():
        for name in ("concurrency", "rate_per_second", "polling", "poll_per_second", "unicode"):
            fld = spec.field(name)
            assert fld is None or fld.advanced, (spec.id, name)

    _choose(qtbot, view.provider, "puresms")
    words = _on_screen(view)
    assert "Sends in flight" not in words and "Unicode mode" not in words and "per second" not in words
    qtbot.mouseClick(view.advanced.toggle, Qt.MouseButton.LeftButton)
    concurrency = view.inputs["concurrency"]
    assert concurrency.isVisible()
    assert "Messages sent at once" in _on_screen(view)
    assert "sends in flight" in concurrency.toolTip()  # the technical name stays in the tooltip
    qtbot.mouseClick(view.advanced.toggle, Qt.MouseButton.LeftButton)
    assert not concurrency.isVisible()


def test_a_save_refused_for_an_advanced_field_opens_the_section(gui, qtbot) -> None:
    view = _accounts_page(gui)
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    _choose(qtbot, view.provider, "puresms")
    qtbot.mouseClick(view.sandbox_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.advanced.toggle, Qt.MouseButton.LeftButton)
    box = view.inputs["concurrency"]
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(box, "fast")
    qtbot.mouseClick(view.advanced.toggle, Qt.MouseButton.LeftButton)  # closed again, value and all
    assert not box.isVisible()
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: "must be a whole number" in view.result.text())
    assert view.result.text().startswith("Messages sent at once must be a whole number, not 'fast'")
    assert view.advanced.is_expanded() and box.isVisible()


def test_compose_says_what_an_accounts_unicode_mode_does_in_words(gui, qtbot) -> None:
    rt = gui.rt
    strict = gui.run(
        rt.accounts.add(
            "Strict", "puresms", {**rt.accounts.sandbox_values("puresms"), "sender": "Shop", "unicode": "Deny"}
        )
    )
    compose = gui.window.show_page("compose")
    assert isinstance(compose, ComposeView)
    type_text(compose.body, "Hi 😊")
    assert "refuses" not in compose.counter.text() and "Unicode mode" not in _on_screen(compose)  # Sandbox: Allow
    _choose(qtbot, compose.account, strict.id)  # type: ignore[arg-type]
    gui.wait_until(lambda: "this account refuses" in compose.counter.text())
    assert (
        "Unicode mode" not in _on_screen(compose) and "Unicode mode of this account: Deny" in compose.counter.toolTip()
    )


def test_a_refusal_reads_without_its_http_code_which_stays_in_the_tooltip(gui, qtbot) -> None:
    gui.rt.sandbox.server.config.rate_400 = 1.0  # the provider refuses the message
    compose = gui.window.show_page("compose")
    assert isinstance(compose, ComposeView)
    qtbot.keyClicks(compose.to, "07911 123456")
    qtbot.keyClicks(compose.body, "Your order is ready")
    gui.wait_until(lambda: "1 recipient" in compose.to_status.text())
    qtbot.mouseClick(compose.send_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: compose.model.rowCount() == 1 and compose.model.index(0, 5).data())
    [msg] = gui.rt.sending.messages.recent(1, direction="out")
    assert "(HTTP 400)" in (msg.error or "")  # what the provider said, kept whole
    shown = compose.model.index(0, 5).data()
    assert "HTTP" not in shown and "refused the message" in shown
    assert "HTTP 400" in compose.model.index(0, 5).data(Qt.ItemDataRole.ToolTipRole)
