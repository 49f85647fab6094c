"""The import wizard's file and row-check pages as a person uses them: type a path, click, read.

The encoding picker and its live preview, the doubtful-reading note, the refusal of a file
that is no spreadsheet, the phone column shown in full, and the name column of the row check.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from smsdesk.services.bulk_send_flow import Step
from smsdesk.ui.views.bulk_send.view import BulkSendView

GREEK = ["Αλέξανδρος Παπαδόπουλος", "Σοφία Γεωργίου", "Νίκος Οικονόμου"]


def _open(gui) -> BulkSendView:  # noqa: ANN001
    view = gui.window.show_page("bulk")
    assert isinstance(view, BulkSendView)
    return view


def _type_path_and_load(gui, qtbot, view: BulkSendView, path: Path) -> None:  # noqa: ANN001
    page = view.wizard.page(Step.FILE)
    page.path.setFocus()
    qtbot.keyClicks(page.path, str(path))  # a temporary path: ASCII only
    qtbot.mouseClick(page.load_button, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: not view.wizard.busy and page.info.text() not in ("", "Reading…"))


def _pick_encoding(gui, qtbot, view: BulkSendView, text: str) -> None:  # noqa: ANN001
    """Open the encoding list with a click and click the entry named ``text``."""
    box = view.wizard.page(Step.FILE).encoding
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: box.view().isVisible())
    row = box.findText(text)
    assert row >= 0, text
    list_view = box.view()
    list_view.scrollTo(box.model().index(row, 0))
    rect = list_view.visualRect(box.model().index(row, 0))
    qtbot.mouseMove(list_view.viewport(), rect.center())
    qtbot.mouseClick(list_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    gui.wait_until(lambda: not list_view.isVisible())


def _first_column(page) -> list[str]:  # noqa: ANN001
    return [page.model.index(r, 0).data() for r in range(page.model.rowCount())]


def test_encoding_is_shown_and_a_choice_changes_what_is_read(gui, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    src = tmp_path / "greek.csv"
    src.write_bytes(
        ("name,phone\n" + "".join(f"{n},+30 69{i} 123 4567\n" for i, n in enumerate(GREEK, 4))).encode("cp1253")
    )
    view = _open(gui)
    page = view.wizard.page(Step.FILE)
    _type_path_and_load(gui, qtbot, view, src)
    assert page.encoding.isEnabled()
    assert page.encoding.currentText() == "Greek (Windows-1253)"
    assert page.encoding_how.text() == "(detected)"
    assert _first_column(page) == GREEK
    assert "Αλέξανδρος Παπαδόπουλος" in page.special.text()
    assert page.doubt.isHidden()

    _pick_encoding(gui, qtbot, view, "Western European (Windows-1252)")
    gui.wait_until(lambda: not view.wizard.busy and page.encoding_how.text() == "(your choice)")
    assert _first_column(page)[0] == "ÁëÝîáíäñïò Ðáðáäüðïõëïò"  # what the detector saved people from
    assert "ÁëÝîáíäñïò" in page.special.text()

    _pick_encoding(gui, qtbot, view, "Greek (Windows-1253)")
    gui.wait_until(lambda: not view.wizard.busy and _first_column(page) == GREEK)
    assert view.wizard.state.table is not None and view.wizard.state.table.encoding == "cp1253"


def test_the_list_previews_each_encoding_while_it_is_open(gui, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    src = tmp_path / "greek.csv"
    src.write_bytes(
        ("name,phone\n" + "".join(f"{n},+30 69{i} 123 4567\n" for i, n in enumerate(GREEK, 4))).encode("cp1253")
    )
    view = _open(gui)
    page = view.wizard.page(Step.FILE)
    _type_path_and_load(gui, qtbot, view, src)
    box = page.encoding
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: box.view().isVisible())
    list_view = box.view()
    rect = list_view.visualRect(box.model().index(box.findText("Western European (Windows-1252)"), 0))
    qtbot.mouseMove(list_view.viewport(), rect.center())
    gui.wait_until(lambda: page.special.text().startswith("As Western European (Windows-1252): ÁëÝîáíäñïò"))
    qtbot.keyClick(list_view, Qt.Key.Key_Escape)
    gui.wait_until(lambda: not list_view.isVisible())
    assert "Αλέξανδρος" in page.special.text()  # closed without a choice: back to what was read
    assert box.currentText() == "Greek (Windows-1253)"


def test_a_doubtful_reading_is_flagged_on_the_page(gui, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    src = tmp_path / "two-scripts.csv"
    src.write_bytes(
        b"name,phone\n"
        + "Νίκος".encode("cp1253")
        + b",+44 7400 123401\n"
        + "Ольга".encode("koi8_r")
        + b",+44 7400 123402\n"
    )
    view = _open(gui)
    page = view.wizard.page(Step.FILE)
    _type_path_and_load(gui, qtbot, view, src)
    assert page.doubt.isVisible()
    assert "Check the letters." in page.doubt.text() and "choose the file's encoding" in page.doubt.text()
    assert page.encoding.currentText() in page.doubt.text()
    assert view.window().width() <= 1100  # the note wraps; it never widens the window


def test_a_png_renamed_csv_is_refused_in_words(gui, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    src = tmp_path / "photo.csv"
    src.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    view = _open(gui)
    w = view.wizard
    page = w.page(Step.FILE)
    _type_path_and_load(gui, qtbot, view, src)
    assert "photo.csv is not a spreadsheet smsdesk can read. This is a PNG image" in page.info.text()
    assert page.model.rowCount() == 0
    assert not page.encoding.isEnabled()
    assert not w.button(w.WizardButton.NextButton).isEnabled()


def test_preview_shows_the_phone_column_in_full_and_the_check_names_each_row(gui, qtbot, tmp_path: Path) -> None:  # noqa: ANN001
    src = tmp_path / "outlook.csv"
    src.write_text(
        '"First Name","Last Name","Company","Mobile Phone","Business Phone","E-mail Address"\n'
        '"Amélie","Durand","Boulangerie Durand et Fils","+44 (0) 7700 123 456","020 7946 0000","a@example.com"\n'
        '"Ben","Ng","","+44 7400 123456","",""\n'
        '"Cara","Doyle","","0740012","",""\n',
        encoding="utf-8-sig",
    )
    view = _open(gui)
    w = view.wizard
    page = w.page(Step.FILE)
    _type_path_and_load(gui, qtbot, view, src)
    phone = page.model.headerData(3, Qt.Orientation.Horizontal)
    assert phone == "Mobile Phone"
    # As wide as its widest number needs (the delegate's own measure: text, margins, padding).
    assert page.preview.columnWidth(3) >= page.preview.sizeHintForColumn(3)
    assert page.preview.columnWidth(3) > page.preview.fontMetrics().horizontalAdvance("+44 (0) 7700 123 456")

    qtbot.mouseClick(w.button(w.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: w.currentId() == Step.MAPPING)
    qtbot.mouseClick(w.button(w.WizardButton.NextButton), Qt.MouseButton.LeftButton)
    gui.wait_until(lambda: w.currentId() == Step.VALIDATION)
    check = w.page(Step.VALIDATION)
    gui.wait_until(lambda: check.report is not None and not w.busy)
    header = [check.model.headerData(c, Qt.Orientation.Horizontal) for c in range(check.model.columnCount())]
    assert header[:4] == ["Row", "Number", "Name", "Result"]
    rows = [[check.model.index(r, c).data() for c in range(4)] for r in range(check.model.rowCount())]
    assert rows[0][2] == "Amélie Durand" and rows[1][2] == "Ben Ng"
    assert rows[2][2:] == ["Cara Doyle", "Invalid number"]
    assert check.view.columnWidth(2) >= check.view.sizeHintForColumn(2)
