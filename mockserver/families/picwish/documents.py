"""The documents PicWish OCR hands out (txt, pdf, docx, xlsx, pptx), made on demand from the task.

Real PicWish links point at its OSS bucket; the mock serves the file itself under
``/picwish/output/<task_id>.<format>`` so a client can follow the link and open what it gets.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

FORMATS = {
    "txt": "text/plain",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
PREFIX = "/picwish/output/"


def document_path(task_id: str, fmt: str) -> str:
    return f"{PREFIX}{task_id}.{fmt}"


def recognised_text(task_id: str, language: str) -> str:
    return f"Mock OCR result of task {task_id}\nLanguages: {language}\nINVOICE No. 0001  Total 128.00\n"


def document(fmt: str, text: str) -> bytes:
    if fmt == "txt":
        return text.encode()
    if fmt == "pdf":
        return _pdf(text)
    return _ooxml(fmt, text)


def _pdf(text: str) -> bytes:
    """A one-page PDF with the text (ASCII) in Helvetica, with a correct cross-reference table."""
    lines = [line.encode("ascii", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") for line in text.splitlines()]
    stream = b"BT /F1 12 Tf 72 720 Td 14 TL " + b" ".join(b"(" + line + b") '" for line in lines) + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


_MAIN_PART = {
    "docx": ("word/document.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
             "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"),
    "xlsx": ("xl/workbook.xml", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
             "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"),
    "pptx": ("ppt/presentation.xml", "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
             "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"),
}


def _ooxml(fmt: str, text: str) -> bytes:
    """A minimal Office Open XML package: content types, the package relationship, the main part
    holding the text (docx and xlsx open in office suites; pptx is the package skeleton only)."""
    part, content_type, relation = _MAIN_PART[fmt]
    lines = [escape(line) for line in text.splitlines()]
    if fmt == "docx":
        body = "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in lines)
        main = f'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>'
    elif fmt == "xlsx":
        main = ('<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
                '<sheets><sheet name="OCR" sheetId="1" r:id="rId1"/></sheets></workbook>')
    else:
        main = '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        overrides = f'<Override PartName="/{part}" ContentType="{content_type}"/>'
        if fmt == "xlsx":
            overrides += '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            rows = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{line}</t></is></c></row>' for i, line in enumerate(lines, start=1))
            package.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData></worksheet>')
            package.writestr("xl/_rels/workbook.xml.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        package.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' + overrides + "</Types>")
        package.writestr("_rels/.rels", f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{relation}" Target="{part}"/></Relationships>')
        package.writestr(part, main)
    return buffer.getvalue()
