"""The big PASS / REJECT / NO DECISION banner with the reason in words, legible from 2 m."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from station.ui.view_models.banner import BannerKind, BannerState

# (background, text) per kind: green pass, red reject, amber no decision, orange camera lost.
COLOURS: dict[BannerKind, tuple[str, str]] = {
    BannerKind.IDLE: ("#3c4043", "#ffffff"),
    BannerKind.PASS: ("#188038", "#ffffff"),
    BannerKind.REJECT: ("#c5221f", "#ffffff"),
    BannerKind.NO_DECISION: ("#f9ab00", "#000000"),
    BannerKind.CAMERA_LOST: ("#e37400", "#000000"),
}


HEADLINE_PX = 76


class OutcomeBanner(QFrame):
    """Shows a `BannerState`; holds no logic beyond picking colours."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("OutcomeBanner")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.headline = QLabel(self)
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.headline.setObjectName("BannerHeadline")
        self.detail = QLabel(self)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail.setWordWrap(True)
        # The reason's length must not resize the side panel: the text wraps instead.
        self.detail.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.headline.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.detail.setObjectName("BannerDetail")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 12)
        layout.setSpacing(2)
        layout.addWidget(self.headline)
        layout.addWidget(self.detail)
        self.setMinimumHeight(170)
        self._state = BannerState(BannerKind.IDLE, "")
        self.show_state(BannerState(BannerKind.IDLE, "STOPPED"))

    @property
    def state(self) -> BannerState:
        return self._state

    def show_state(self, state: BannerState) -> None:
        previous, self._state = self._state, state
        if state.kind is not previous.kind or not self.styleSheet():
            # Restyling is costly: only when the colour changes, not on every part.
            bg, fg = COLOURS[state.kind]
            self.setStyleSheet(
                f"#OutcomeBanner {{ background: {bg}; border-radius: 8px; }}"
                f"#BannerHeadline {{ color: {fg}; font-weight: 800; }}"
                f"#BannerDetail {{ color: {fg}; font-size: 26px; font-weight: 600; }}"
            )
        self.headline.setText(state.headline)
        self.detail.setText(state.detail)
        self.setAccessibleName(f"{state.headline}: {state.detail}")
        if state.headline != previous.headline:
            self._fit_headline()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._fit_headline()

    def _fit_headline(self) -> None:
        """As large as HEADLINE_PX, smaller only when the word would not fit the banner."""
        font = QFont(self.headline.font())
        font.setWeight(QFont.Weight.ExtraBold)
        room = max(1, self.contentsRect().width() - 8)
        px = HEADLINE_PX
        while px > 24:
            font.setPixelSize(px)
            if QFontMetrics(font).horizontalAdvance(self.headline.text()) <= room:
                break
            px -= 4
        self.headline.setFont(font)
