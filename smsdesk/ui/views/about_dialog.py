"""Help -> About: version, data folder, and the third-party components with their licences.

The component list is read at run time from the installed packages' metadata
(:mod:`importlib.metadata`): smsdesk's own requirements, followed transitively, so a new
dependency appears without anyone editing this file. The frozen build copies that metadata
into the bundle (``packaging/smsdesk.spec``); :data:`KNOWN_LICENCES` covers a package whose
metadata is missing or says nothing usable. Qt itself is not a Python distribution and is
listed from :func:`PySide6.QtCore.qVersion`.
"""

from __future__ import annotations

import contextlib
import platform
import re
import sys
from dataclasses import dataclass
from email.message import Message
from importlib import metadata
from pathlib import Path
from typing import cast

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices, QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from smsdesk import APP_NAME, __version__, resources

# SPDX identifiers for packages whose metadata may not say (or in the frozen app, may be absent).
KNOWN_LICENCES: dict[str, str] = {
    "pyside6-essentials": "LGPL-3.0-only",
    "pyside6": "LGPL-3.0-only",
    "shiboken6": "LGPL-3.0-only",
    "qasync": "BSD-2-Clause",
    "httpx": "BSD-3-Clause",
    "httpcore": "BSD-3-Clause",
    "httpx-aiohttp": "BSD-3-Clause",
    "aiohttp": "Apache-2.0",
    "keyring": "MIT",
    "phonenumbers": "Apache-2.0",
    "platformdirs": "MIT",
    "openpyxl": "MIT",
    "pyjwt": "MIT",
    "tomli-w": "MIT",
    "charset-normalizer": "MIT",
    "sniffio": "MIT OR Apache-2.0",
    "secretstorage": "BSD-3-Clause",
    "jeepney": "MIT",
    "certifi": "MPL-2.0",
    "idna": "BSD-3-Clause",
    "anyio": "MIT",
    "h11": "MIT",
    "et-xmlfile": "MIT",
    "yarl": "Apache-2.0",
    "multidict": "Apache-2.0",
    "frozenlist": "Apache-2.0",
    "aiosignal": "Apache-2.0",
    "attrs": "MIT",
    "propcache": "Apache-2.0",
    "aiohappyeyeballs": "PSF-2.0",
}
_CLASSIFIER_SPDX = {
    "MIT License": "MIT",
    "BSD License": "BSD",
    "Apache Software License": "Apache-2.0",
    "Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "Python Software Foundation License": "PSF-2.0",
    "GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0",
    "GNU Library or Lesser General Public License (LGPL)": "LGPL",
}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
LGPL_NOTE = (
    "Qt and PySide6 are used under the GNU LGPL v3. They are installed as separate libraries in "
    "smsdesk's folder, and you may replace them with versions you build yourself. Their source "
    'code is available at <a href="https://code.qt.io/">code.qt.io</a>.'
)


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    licence: str
    url: str = ""


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _meta(dist: metadata.Distribution) -> Message:
    """``dist``'s metadata as what it is at run time: an email message, whose ``get`` answers
    None for a missing field (the typing protocol ``PackageMetadata`` does not declare ``get``)."""
    return cast(Message, dist.metadata)


def licence_of(dist: metadata.Distribution) -> str:
    """The best short licence name the metadata offers (SPDX where it has one)."""
    meta = _meta(dist)
    expression = meta.get("License-Expression")
    if expression:
        return str(expression)
    field = (meta.get("License") or "").strip()
    if field and "\n" not in field and len(field) <= 60 and field.upper() != "UNKNOWN":
        return field
    known = KNOWN_LICENCES.get(_normalise(meta.get("Name") or ""))
    if known:
        return known
    for classifier in meta.get_all("Classifier") or []:
        if classifier.startswith("License ::"):
            tail = classifier.rsplit("::", 1)[-1].strip()
            return _CLASSIFIER_SPDX.get(tail, tail)
    return "see the package"


def _url_of(dist: metadata.Distribution) -> str:
    meta = _meta(dist)
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip().lower() in {"homepage", "home", "source", "repository", "source code"}:
            return url.strip()
    return str(meta.get("Home-page") or "")


def _runtime_requirements(dist: metadata.Distribution) -> list[str]:
    """Names of ``dist``'s installed, non-optional requirements (extras are skipped)."""
    names = []
    for requirement in dist.requires or []:
        _, _, marker = requirement.partition(";")
        if "extra" in marker:
            continue
        match = _NAME.match(requirement)
        if match:
            names.append(match.group(1))
    return names


def third_party(root: str = APP_NAME) -> list[Component]:
    """Every installed package smsdesk depends on (transitively), plus Qt, sorted by name."""
    found: dict[str, Component] = {}
    queue = [root]
    while queue:
        name = queue.pop()
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # not installed here (a platform-specific or optional dependency)
        shown = str(_meta(dist).get("Name") or name)
        key = _normalise(shown)
        if key in found:
            continue
        if key != _normalise(root):
            found[key] = Component(shown, dist.version, licence_of(dist), _url_of(dist))
        queue.extend(_runtime_requirements(dist))
    if "pyside6-essentials" not in found and "pyside6" not in found:  # metadata missing (frozen)
        found["pyside6"] = Component("PySide6", pyside_version, KNOWN_LICENCES["pyside6"])
    found["qt"] = Component("Qt", qVersion(), "LGPL-3.0-only", "https://www.qt.io/")
    return sorted(found.values(), key=lambda c: c.name.lower())


class AboutDialog(QDialog):
    """Non-modal About box (open with :meth:`open`, never ``exec()``: see ``ui/aio.py``)."""

    def __init__(self, data_folder: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("about_dialog")
        self.setWindowTitle(f"About {APP_NAME}")
        self.data_folder = data_folder
        self.resize(620, 560)

        header = QHBoxLayout()
        icon = QLabel()
        with contextlib.suppress(resources.ResourceNotFound):  # the text still says everything
            icon.setPixmap(QIcon(str(resources.path("icons/smsdesk.svg"))).pixmap(64, 64))
        header.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        title = QLabel(
            f"<h2 style='margin:0'>{APP_NAME} {__version__}</h2><p>A desktop SMS console for small businesses.</p>"
        )
        title.setObjectName("about_version")
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        header.addWidget(title, 1)

        folder = QLabel(str(data_folder))
        folder.setObjectName("about_data_folder")
        folder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        folder.setWordWrap(True)
        open_folder = QPushButton("Open folder")
        open_folder.clicked.connect(self.open_data_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(folder, 1)
        folder_row.addWidget(open_folder)
        frozen = " (installed build)" if getattr(sys, "frozen", False) else ""
        form = QFormLayout()
        form.addRow("Version:", QLabel(f"{__version__}{frozen}"))
        form.addRow("Data folder:", folder_row)
        form.addRow(
            "Runs on:",
            QLabel(
                f"Python {platform.python_version()}, Qt {qVersion()}, "
                f"PySide6 {pyside_version}, {platform.system()} {platform.release()}"
            ),
        )

        self.licences = self._licence_table(third_party())
        note = QLabel(LGPL_NOTE)
        note.setWordWrap(True)
        note.setOpenExternalLinks(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(form)
        layout.addWidget(QLabel("<b>Third-party components</b>"))
        layout.addWidget(self.licences, 1)
        layout.addWidget(note)
        layout.addWidget(buttons)

    @staticmethod
    def _licence_table(components: list[Component]) -> QTableWidget:
        table = QTableWidget(len(components), 3)
        table.setObjectName("about_licences")
        table.setHorizontalHeaderLabels(["Component", "Version", "Licence"])
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setAlternatingRowColors(True)
        for row, comp in enumerate(components):
            for col, text in enumerate((comp.name, comp.version, comp.licence)):
                item = QTableWidgetItem(text)
                if comp.url:
                    item.setToolTip(comp.url)
                table.setItem(row, col, item)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        return table

    def open_data_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.data_folder)))
