"""Light and dark themes that follow the system colour scheme, with a manual override.

``Settings.theme`` holds the person's choice: ``system`` (follow the desktop, live, through
:meth:`QStyleHints.colorScheme` and its ``colorSchemeChanged`` signal), ``light`` or ``dark``.
A theme is the Fusion style + a full :class:`QPalette` + ``resources/styles/<scheme>.qss``:
Fusion draws every widget from the palette on all three platforms, so a dark choice is dark
everywhere, even where the native style ignores palettes (Windows) or the platform reports no
scheme (X11 without a portal, offscreen). On Qt >= 6.8 we also tell the platform our choice
(``QStyleHints.setColorScheme``) so native parts such as Windows title bars match.

One :class:`ThemeManager` per application, made by :func:`ensure`; views change the theme
with :meth:`ThemeManager.set_mode` and listen to ``sig_mode_changed`` to stay in step.

Banners, badges and coloured status text take their colours from here too, never from a
hex code in a view: :func:`set_tone` and :func:`set_banner` mark a widget (the app style
sheet colours it, and re-colours it when the theme changes), :func:`color` and
:func:`badge` give painted delegates the colour for the scheme now showing.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from smsdesk import resources
from smsdesk.ui.context import UiContext

log = logging.getLogger(__name__)

MODES: tuple[str, ...] = ("system", "light", "dark")
# An application property: Fusion is the style already (smsdesk-gui asks Qt for it when it
# creates the application; whoever else made it gets it from the first Theme).
FUSION_SET = "smsdesk_fusion"
MODE_LABELS: dict[str, str] = {"system": "Follow system", "light": "Light", "dark": "Dark"}

_R = QPalette.ColorRole
_G = QPalette.ColorGroup

# Colours chosen for contrast >= 4.5:1 between text and its background in both schemes.
# Mid doubles as the muted-text colour (views style hints with ``color: palette(mid)``), so it
# is a readable mid grey in both schemes rather than a bevel shade close to the window colour.
_LIGHT: dict[QPalette.ColorRole, str] = {
    _R.Window: "#f5f6f8",
    _R.WindowText: "#1d1f23",
    _R.Base: "#ffffff",
    _R.AlternateBase: "#f0f2f5",
    _R.Text: "#1d1f23",
    _R.Button: "#eceef1",
    _R.ButtonText: "#1d1f23",
    _R.BrightText: "#ffffff",
    _R.Highlight: "#1a5dc8",
    _R.HighlightedText: "#ffffff",
    _R.Link: "#1a5dc8",
    _R.LinkVisited: "#6b3fb5",
    _R.ToolTipBase: "#ffffff",
    _R.ToolTipText: "#1d1f23",
    _R.PlaceholderText: "#6b717a",
    _R.Light: "#ffffff",
    _R.Midlight: "#e3e6ea",
    _R.Mid: "#767c85",
    _R.Dark: "#9aa1ab",
    _R.Shadow: "#5f6670",
}
_DARK: dict[QPalette.ColorRole, str] = {
    _R.Window: "#202225",
    _R.WindowText: "#e6e7e9",
    _R.Base: "#17181a",
    _R.AlternateBase: "#24262a",
    _R.Text: "#e6e7e9",
    _R.Button: "#2c2e32",
    _R.ButtonText: "#e6e7e9",
    _R.BrightText: "#ffffff",
    _R.Highlight: "#3b8cf0",
    _R.HighlightedText: "#ffffff",
    _R.Link: "#78b0ff",
    _R.LinkVisited: "#b79cff",
    _R.ToolTipBase: "#2c2e32",
    _R.ToolTipText: "#e6e7e9",
    _R.PlaceholderText: "#8d939c",
    _R.Light: "#3a3d42",
    _R.Midlight: "#303236",
    _R.Mid: "#8a9099",
    _R.Dark: "#141517",
    _R.Shadow: "#000000",
}
_DISABLED_TEXT = {"light": "#9aa0a8", "dark": "#6c7179"}

# Coloured text on the window or base colour (status lines, states in tables), >= 4.5:1.
TONES: dict[str, dict[str, str]] = {
    "light": {"error": "#b3261e", "ok": "#1b7f3b", "warn": "#8a5300", "info": "#1a5dc8", "muted": "#6b717a"},
    "dark": {"error": "#ff8a80", "ok": "#6fd08c", "warn": "#f0b35a", "info": "#78b0ff", "muted": "#8d939c"},
}
# Banners: (background, text, border) per kind; the text is >= 4.5:1 on the background.
BANNERS: dict[str, dict[str, tuple[str, str, str]]] = {
    "light": {
        "error": ("#fdecea", "#8a1c12", "#f1b0a8"),
        "warn": ("#fff4e0", "#5a3a00", "#e0a040"),
        "info": ("#e8f0fd", "#123a7a", "#b5cdf5"),
    },
    "dark": {
        "error": ("#3b1f1c", "#ffb4ab", "#7a2e27"),
        "warn": ("#392b12", "#f5d08a", "#7a5a1c"),
        "info": ("#182a42", "#b9d3ff", "#2f4d7a"),
    },
}
# Badges (small filled pills with text): (fill, text).
BADGES: dict[str, dict[str, tuple[str, str]]] = {
    "light": {
        "error": ("#b3261e", "#ffffff"),
        "info": ("#1a5dc8", "#ffffff"),
        "ok": ("#1e7a3a", "#ffffff"),
        "neutral": ("#dfe3e8", "#1d1f23"),
    },
    "dark": {
        "error": ("#f2685d", "#1d1f23"),
        "info": ("#3b8cf0", "#ffffff"),
        "ok": ("#4caf6a", "#1d1f23"),
        "neutral": ("#454b55", "#eef0f3"),
    },
}
# Search hits marked inside message text: (background, text), readable on either bubble.
MARK: dict[str, tuple[str, str]] = {"light": ("#ffd84d", "#1d1f23"), "dark": ("#e8b923", "#1d1f23")}


def build_palette(scheme: str) -> QPalette:
    """The full palette for ``scheme`` (``light`` or ``dark``)."""
    palette = QPalette()
    for role, colour in (_DARK if scheme == "dark" else _LIGHT).items():
        palette.setColor(role, QColor(colour))
    grey = QColor(_DISABLED_TEXT["dark" if scheme == "dark" else "light"])
    for role in (_R.WindowText, _R.Text, _R.ButtonText, _R.HighlightedText, _R.PlaceholderText):
        palette.setColor(_G.Disabled, role, grey)
    return palette


def system_scheme() -> str:
    """What the desktop asks for: ``dark`` or ``light`` (``light`` when it does not say)."""
    hints = QGuiApplication.styleHints()
    return "dark" if hints.colorScheme() == Qt.ColorScheme.Dark else "light"


class ThemeManager(QObject):
    """Applies the chosen theme to the application and re-applies it when the system changes.

    Args:
        app: the application whose style, palette and style sheet are set.
        mode: ``system``, ``light`` or ``dark`` (anything else is treated as ``system``).
        on_mode_changed: called with the new mode after :meth:`set_mode` (saves the setting).
    """

    sig_mode_changed = Signal(str)  # the mode: system | light | dark
    sig_applied = Signal(str)  # the scheme now showing: light | dark

    def __init__(
        self, app: QApplication, mode: str = "system", on_mode_changed: Callable[[str], None] | None = None
    ) -> None:
        super().__init__(app)
        self.app = app
        self.mode = mode if mode in MODES else "system"
        self.scheme = "light"
        self._on_mode_changed = on_mode_changed
        self._applying = False
        # setStyle deletes the previous style object: doing it again while widgets of an older
        # window await deletion can crash, so switch once per application.
        if not app.property(FUSION_SET):
            app.setStyle("Fusion")
            app.setProperty(FUSION_SET, True)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_system_changed)
        self.apply()

    def set_mode(self, mode: str) -> None:
        """Switch to ``mode`` now, tell listeners, and let the owner save it."""
        if mode not in MODES:
            raise ValueError(f"unknown theme {mode!r}; expected one of {', '.join(MODES)}")
        if mode == self.mode:
            return
        self.mode = mode
        self.apply()
        if self._on_mode_changed is not None:
            self._on_mode_changed(mode)
        self.sig_mode_changed.emit(mode)

    def apply(self) -> None:
        """Apply the palette and style sheet for the current mode."""
        if self._applying:  # setColorScheme below re-emits colorSchemeChanged
            return
        self._applying = True
        try:
            self._request_platform_scheme()
            scheme = system_scheme() if self.mode == "system" else self.mode
            self.scheme = scheme
            # Only touch what differs: an app-wide palette or style sheet change repolishes every
            # widget, including windows awaiting deletion (a new window re-ensures the theme).
            palette = build_palette(scheme)
            if self.app.palette() != palette:
                self.app.setPalette(palette)
            sheet = _style_sheet(scheme) + semantic_sheet(scheme)
            if self.app.styleSheet() != sheet:
                self.app.setStyleSheet(sheet)
        finally:
            self._applying = False
        self.sig_applied.emit(self.scheme)

    def _request_platform_scheme(self) -> None:
        hints = QGuiApplication.styleHints()
        if not hasattr(hints, "setColorScheme"):  # Qt < 6.8: palette only
            return
        if self.mode == "system":
            hints.unsetColorScheme()
        else:
            hints.setColorScheme(Qt.ColorScheme.Dark if self.mode == "dark" else Qt.ColorScheme.Light)

    def _on_system_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self.mode == "system" and not self._applying:
            self.apply()

    def detach(self) -> None:
        """Stop following the system (before a replacement manager takes over)."""
        with contextlib.suppress(RuntimeError, TypeError):  # already disconnected
            QGuiApplication.styleHints().colorSchemeChanged.disconnect(self._on_system_changed)


def _style_sheet(scheme: str) -> str:
    try:
        return resources.read_text(f"styles/{scheme}.qss")
    except (resources.ResourceNotFound, OSError) as exc:
        # The palette alone is a usable theme; a missing .qss is a packaging bug worth a log line.
        log.warning("theme style sheet unavailable: %s", exc)
        return ""


# The context is held weakly: a test's runtime must not outlive the test through the theme.
_current: tuple[weakref.ref[UiContext], ThemeManager] | None = None


def ensure(ctx: UiContext) -> ThemeManager:
    """The application's theme manager for ``ctx``, created (and applied) on first use.

    The mode comes from the settings' ``theme``; a change is written back to the settings file.
    """
    global _current
    if _current is not None and _current[0]() is ctx:
        return _current[1]
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("a QApplication must exist before the theme is applied")
    if _current is not None:  # a new context (tests, or a re-opened runtime): replace
        _current[1].detach()
        _current[1].deleteLater()

    ref = weakref.ref(ctx)

    def save(mode: str) -> None:
        owner = ref()
        if owner is not None:
            owner.services.settings_file.settings.theme = mode
            owner.services.settings_file.save()

    manager = ThemeManager(app, ctx.services.settings_file.settings.theme, on_mode_changed=save)
    _current = (ref, manager)
    return manager


def current() -> ThemeManager | None:
    """The manager made by :func:`ensure`, if any."""
    return _current[1] if _current is not None else None


# ---- banners, badges and coloured text -------------------------------------------------------
def scheme_now() -> str:
    """``dark`` or ``light``: read from the application palette, so it is right whoever set it."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return "light"
    return "dark" if app.palette().color(_R.Window).lightness() < 128 else "light"


def color(tone: str) -> QColor:
    """The text colour for ``tone`` (error, ok, warn, info, muted) in the scheme now showing."""
    return QColor(TONES[scheme_now()][tone])


def badge(kind: str) -> tuple[QColor, QColor]:
    """(fill, text) of a badge of ``kind`` (error, info, ok, neutral) in the scheme now showing."""
    fill, ink = BADGES[scheme_now()][kind]
    return QColor(fill), QColor(ink)


def mark() -> tuple[QColor, QColor]:
    """(background, text) for a search hit marked inside a message."""
    back, ink = MARK[scheme_now()]
    return QColor(back), QColor(ink)


def semantic_sheet(scheme: str) -> str:
    """Style rules for widgets marked with :func:`set_tone` / :func:`set_banner`."""
    rules = [f'*[tone="{name}"] {{ color: {value}; }}' for name, value in TONES[scheme].items()]
    for kind, (back, ink, border) in BANNERS[scheme].items():
        rules.append(
            f'*[banner="{kind}"] {{ background: {back}; color: {ink}; border: 1px solid {border};'
            f" border-radius: 6px; padding: 6px 10px; }}"
        )
        # Labels inside a banner frame: the banner's ink on its background (no second border).
        rules.append(
            f'*[banner="{kind}"] QLabel {{ color: {ink}; background: transparent; border: none; padding: 0; }}'
        )
    return "\n" + "\n".join(rules) + "\n"


def _repolish(widget: QWidget) -> None:
    if not widget.testAttribute(Qt.WidgetAttribute.WA_WState_Polished):
        return  # polished when first shown, with the properties it has then
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


def set_tone(widget: QWidget, tone: str = "") -> None:
    """Colour a widget's text as ``tone`` (error, ok, warn, info, muted), or plain with ""."""
    if (widget.property("tone") or "") == tone:
        return
    widget.setProperty("tone", tone)
    _repolish(widget)


def set_banner(widget: QWidget, kind: str) -> None:
    """Make ``widget`` (a QLabel or a QFrame holding labels and buttons) an ``error``, ``warn``
    or ``info`` banner in the theme's colours."""
    widget.setProperty("banner", kind)
    _repolish(widget)
    for child in widget.findChildren(QWidget):
        _repolish(child)
