"""Read the words a widget or chart paints: a paint device that records text, not pixels.

A test asserts what a person would read on screen; for custom-painted widgets (charts) that
text exists only as painter calls, so this device records each ``drawTextItem`` with where it
went and ignores every shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPaintDevice, QPaintEngine, QTextItem


@dataclass(frozen=True)
class PaintedText:
    text: str
    rect: QRectF  # where the run of text went (baseline position, width, ascent and descent)


class _TextEngine(QPaintEngine):
    def __init__(self) -> None:
        super().__init__(QPaintEngine.PaintEngineFeature.AllFeatures)
        self.texts: list[PaintedText] = []

    def begin(self, device: Any) -> bool:
        return True

    def end(self) -> bool:
        return True

    def type(self) -> QPaintEngine.Type:
        return QPaintEngine.Type.User

    def updateState(self, state: Any) -> None:  # noqa: N802 - Qt API
        pass

    def drawTextItem(self, p: QPointF, item: QTextItem) -> None:  # noqa: N802 - Qt API
        origin = self.painter().worldTransform().map(p)
        rect = QRectF(origin.x(), origin.y() - item.ascent(), item.width(), item.ascent() + item.descent())
        self.texts.append(PaintedText(item.text(), rect))

    # Shapes are not text: accept and drop them.
    def drawPixmap(self, *args: Any) -> None:  # noqa: N802 - Qt API
        pass

    def drawPath(self, *args: Any) -> None:  # noqa: N802 - Qt API
        pass

    def drawPolygon(self, *args: Any) -> None:  # noqa: N802 - Qt API
        pass

    def drawRects(self, *args: Any) -> None:  # noqa: N802 - Qt API
        pass

    def drawLines(self, *args: Any) -> None:  # noqa: N802 - Qt API
        pass

    def drawEllipse(self, *args: Any) -> None:  # noqa: N802 - Qt API
        pass

    def drawPoints(self, *args: Any) -> None:  # noqa: N802 - Qt API
        pass


class TextRecorder(QPaintDevice):
    """A ``width`` x ``height`` device at ``dpi``; paint on it, then read :attr:`texts`."""

    def __init__(self, width: int, height: int, dpi: int = 96) -> None:
        super().__init__()
        self.size = (width, height)
        self.dpi = dpi
        self._engine = _TextEngine()

    @property
    def texts(self) -> list[PaintedText]:
        return self._engine.texts

    @property
    def words(self) -> list[str]:
        return [t.text for t in self._engine.texts]

    def paintEngine(self) -> QPaintEngine:  # noqa: N802 - Qt API
        return self._engine

    def metric(self, metric: QPaintDevice.PaintDeviceMetric) -> int:
        m = QPaintDevice.PaintDeviceMetric
        width, height = self.size
        values = {
            m.PdmWidth: width,
            m.PdmHeight: height,
            m.PdmWidthMM: round(width * 25.4 / self.dpi),
            m.PdmHeightMM: round(height * 25.4 / self.dpi),
            m.PdmDpiX: self.dpi,
            m.PdmDpiY: self.dpi,
            m.PdmPhysicalDpiX: self.dpi,
            m.PdmPhysicalDpiY: self.dpi,
            m.PdmDepth: 32,
            m.PdmNumColors: 2**31 - 1,
            m.PdmDevicePixelRatio: 1,
            m.PdmDevicePixelRatioScaled: 1 * int(QPaintDevice.devicePixelRatioFScale()),
        }
        return int(values.get(metric, 0))
