"""Chart colours taken from the widget's palette, so charts follow the light and dark themes.

Series colours differ in lightness as well as hue (delivered dark green, failed bright red,
pending light grey), so they stay apart for people who do not tell red from green; the legend,
the tooltips and a background-coloured gap between stacked parts carry the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette

from smsdesk.ui.charts.data import Tone

_R = QPalette.ColorRole

# Categorical colours in order of use; the first matches the app's highlight.
_CATEGORICAL = {
    "light": ("#1a5dc8", "#e07b00", "#168a7a", "#8a4fc4", "#c2417a", "#5b6b00"),
    "dark": ("#4a95f2", "#f5a03c", "#35c2ad", "#b48cf0", "#f07aa8", "#a8bb3c"),
}
_TONES = {
    "light": {Tone.POSITIVE: "#1e8a4c", Tone.NEGATIVE: "#e0483e", Tone.PENDING: "#b3b9c2"},
    "dark": {Tone.POSITIVE: "#3fb96f", Tone.NEGATIVE: "#ff6b5e", Tone.PENDING: "#6b727c"},
}


def blend(a: QColor, b: QColor, amount: float) -> QColor:
    """``a`` moved ``amount`` (0..1) of the way towards ``b``."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * amount,
        a.greenF() + (b.greenF() - a.greenF()) * amount,
        a.blueF() + (b.blueF() - a.blueF()) * amount,
    )


@dataclass(frozen=True)
class ChartColors:
    """Every colour a chart paints with, for one palette."""

    scheme: str  # light | dark, from the background's lightness
    background: QColor
    text: QColor
    muted: QColor  # axis labels and the empty-state words
    grid: QColor
    axis: QColor
    hover: QColor  # the band behind the category under the pointer or the keyboard
    focus: QColor  # the outline of the point the keyboard is on
    tooltip_base: QColor
    tooltip_text: QColor

    @classmethod
    def from_palette(cls, palette: QPalette) -> ChartColors:
        background = palette.color(_R.Base)
        text = palette.color(_R.Text)
        muted = palette.color(_R.PlaceholderText)
        # A palette whose placeholder colour is too close to the background (some native
        # palettes) would hide the axis labels: fall back to a blend of the text colour.
        if abs(muted.lightness() - background.lightness()) < 90:
            muted = blend(text, background, 0.35)
        return cls(
            scheme="dark" if background.lightness() < 128 else "light",
            background=background,
            text=text,
            muted=muted,
            grid=blend(background, text, 0.10),
            axis=blend(background, text, 0.45),
            hover=blend(background, text, 0.06),
            focus=palette.color(_R.Highlight),
            tooltip_base=palette.color(_R.ToolTipBase),
            tooltip_text=palette.color(_R.ToolTipText),
        )

    def series(self, index: int, tone: Tone | None = None) -> QColor:
        """The colour of series ``index`` (its tone's colour when it has one)."""
        if tone is not None:
            return QColor(_TONES[self.scheme][tone])
        colours = _CATEGORICAL[self.scheme]
        return QColor(colours[index % len(colours)])
