"""QR code images of short texts (an otpauth URI) as SVG or PNG, drawn by the pure-Python segno."""

from __future__ import annotations

import io

import segno

__all__ = ["SegnoQrRenderer"]


class SegnoQrRenderer:
    def __init__(self, *, scale: int = 5, border: int = 4, error: str = "m") -> None:
        self._scale = scale
        self._border = border
        self._error = error

    def _code(self, data: str) -> segno.QRCode:
        return segno.make_qr(data, error=self._error, boost_error=False)

    def svg(self, data: str) -> str:
        return str(self._code(data).svg_inline(scale=self._scale, border=self._border))

    def png(self, data: str) -> bytes:
        buffer = io.BytesIO()
        self._code(data).save(buffer, kind="png", scale=self._scale, border=self._border)
        return buffer.getvalue()
