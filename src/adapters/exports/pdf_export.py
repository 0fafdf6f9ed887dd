"""The PDF writer (fpdf2): a landscape A4 table with the column headings repeated on every page, page numbers,
and a header saying when, with which filters, and how many cases, including when the list was cut at the cap.

fpdf2 builds the document in memory, so the PDF is capped (10,000 rows by default, about 300 pages). The core
font covers Latin-1 only: other characters print as `?`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import CORE_FONTS_CHARWIDTHS

from adapters.exports.csv_export import cell_text
from application.policies.case_export import COLUMNS, ExportMeta, ExportRow

__all__ = ["PDF_MAX_ROWS", "PdfCaseListWriter"]

PDF_MAX_ROWS = 10_000
_WIDTHS = (25, 26, 39, 25, 14, 30, 20, 20, 15, 24, 14, 25)  # mm; 277 = A4 landscape less 10 mm margins
_RIGHT = frozenset({7, 10})  # amount and attempts
_ROW_HEIGHT = 5.0
# Helvetica's glyph widths (1/1000 em) by character; table cells are in the regular style
_GLYPHS: dict[str, int] = {str(ch): int(w) for ch, w in CORE_FONTS_CHARWIDTHS["helvetica"].items()}


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


class _CaseTable(FPDF):
    def __init__(self, meta: ExportMeta, summary: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self._meta = meta
        self._summary = summary
        self.set_margins(10, 10, 10)
        self.set_auto_page_break(auto=True, margin=14)
        self.set_title(meta.title)
        self.set_creator("Renewal desk")

    def header(self) -> None:
        self.set_font("Helvetica", "B", 12)
        self.cell(0, 6, _latin1(self._meta.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("Helvetica", "", 8)
        generated = self._meta.generated_at.strftime("%Y-%m-%d %H:%M %Z")
        self.cell(0, 4, _latin1(f"Generated {generated} - {self._summary}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 4, self.fit(f"Filters: {self._meta.filters}", 277), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)
        self.set_font("Helvetica", "B", 8)
        self.set_fill_color(230, 230, 230)
        for title, width in zip(COLUMNS, _WIDTHS, strict=True):
            while self.get_string_width(title) > width - 2 * self.c_margin:  # bold: fpdf2 measures it
                title = title[:-1]
            self.cell(width, 6, title, border=1, fill=True)
        self.ln(6)
        self.set_font("Helvetica", "", 8)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", "", 8)
        self.cell(0, 5, f"Page {self.page_no()}/{{nb}}", align="C")

    def _width(self, text: str) -> float:
        """The text's width in mm in the current core font (its glyph table: no text shaping needed)."""
        return sum(_GLYPHS.get(ch, 1000) for ch in text) * self.font_size / 1000

    def fit(self, text: str, width: float) -> str:
        """The text, cut with `...` to fit `width` mm less the cell padding."""
        text = _latin1(text)
        room = width - 2 * self.c_margin
        if self._width(text) <= room:
            return text
        while text and self._width(text + "...") > room:
            text = text[:-1]
        return text + "..."

    def rows(self, rows: Sequence[ExportRow]) -> None:
        for row in rows:
            for index, (value, width) in enumerate(zip(row.cells(), _WIDTHS, strict=True)):
                self.cell(width, _ROW_HEIGHT, self.fit(cell_text(value), width), border=1,
                          align="R" if index in _RIGHT else "L")
            self.ln(_ROW_HEIGHT)


def _render(rows: list[ExportRow], meta: ExportMeta, cap: int, cut: bool) -> bytes:
    summary = (f"first {len(rows):,} cases only: the PDF is limited to {cap:,} rows; narrow the filters "
               "or export CSV for all" if cut else f"{len(rows):,} cases")
    pdf = _CaseTable(meta, summary)
    pdf.add_page()
    pdf.rows(rows)
    if not rows:
        pdf.cell(0, 8, "No cases match these filters.")
    return bytes(pdf.output())


class PdfCaseListWriter:
    media_type = "application/pdf"
    extension = "pdf"

    def __init__(self, *, max_rows: int = PDF_MAX_ROWS) -> None:
        self.max_rows: int | None = max_rows

    async def write(self, batches: AsyncIterator[list[ExportRow]], meta: ExportMeta) -> AsyncIterator[bytes]:
        cap = self.max_rows if self.max_rows is not None else PDF_MAX_ROWS
        rows: list[ExportRow] = []
        async for batch in batches:
            rows.extend(batch)
        cut = len(rows) > cap
        document = await asyncio.to_thread(_render, rows[:cap], meta, cap, cut)
        yield document
