"""Attachment files (.xlsx, .docx, .pdf) of the sandbox, generated with the real libraries."""

from __future__ import annotations

import io

from .county import Attachment


def attachment_bytes(att: Attachment) -> tuple[bytes, str]:
    if att.kind == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "名单"
        for row in att.rows:
            ws.append(row)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    if att.kind == "docx":
        from docx import Document

        doc = Document()
        for row in att.rows:
            doc.add_paragraph(row[0])
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    if att.kind == "pdf":
        from reportlab.lib.pagesizes import A4
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfgen import canvas

        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=A4, invariant=1)  # invariant: same bytes for the same content
        c.setFont("STSong-Light", 12)
        y = 800
        for row in att.rows:
            c.drawString(60, y, row[0])
            y -= 24
        c.showPage()
        c.save()
        return buf.getvalue(), "application/pdf"
    raise ValueError(f"unknown attachment kind {att.kind}")
