"""QR images of an otpauth URI as SVG text and PNG bytes."""

from __future__ import annotations

from adapters.qr.segno_qr_renderer import SegnoQrRenderer
from domain.identity.totp import otpauth_uri

URI = otpauth_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "asha@example.in", "Renewals")


def test_svg_is_an_inline_svg_document() -> None:
    svg = SegnoQrRenderer().svg(URI)
    assert svg.startswith("<svg")
    assert svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg


def test_png_has_the_png_signature() -> None:
    png = SegnoQrRenderer().png(URI)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 100


def test_same_data_gives_the_same_image() -> None:
    renderer = SegnoQrRenderer(scale=3)
    assert renderer.png(URI) == renderer.png(URI)
    assert renderer.svg(URI) != renderer.svg(URI + "x")
