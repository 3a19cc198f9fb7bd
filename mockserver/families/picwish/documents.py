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
    escaped = text.encode("ascii", "replace").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    lines = escaped.splitlines()
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


_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006"
_OPENXML = "application/vnd.openxmlformats-officedocument"
_SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# Per format: the main part's name and content type.
_MAIN_PART = {
    "docx": ("word/document.xml", f"{_OPENXML}.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml", f"{_OPENXML}.spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml", f"{_OPENXML}.presentationml.presentation.main+xml"),
}


def _relationship(target: str, kind: str) -> str:
    relation = f'<Relationship Id="rId1" Type="{_OFFICE}/{kind}" Target="{target}"/>'
    return f'<Relationships xmlns="{_PACKAGE}/relationships">{relation}</Relationships>'


def _override(part: str, content_type: str) -> str:
    return f'<Override PartName="/{part}" ContentType="{content_type}"/>'


def _ooxml(fmt: str, text: str) -> bytes:
    """A minimal Office Open XML package: content types, the package relationship, the main part
    holding the text (docx and xlsx open in office suites; pptx is the package skeleton only)."""
    part, content_type = _MAIN_PART[fmt]
    lines = [escape(line) for line in text.splitlines()]
    parts = {}
    overrides = _override(part, content_type)
    if fmt == "docx":
        body = "".join(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>" for line in lines)
        namespace = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
        parts[part] = f'<w:document xmlns:w="{namespace}"><w:body>{body}</w:body></w:document>'
    elif fmt == "xlsx":
        sheets = '<sheets><sheet name="OCR" sheetId="1" r:id="rId1"/></sheets>'
        parts[part] = f'<workbook xmlns="{_SHEET_NS}" xmlns:r="{_OFFICE}">{sheets}</workbook>'
        cells = (f'<c r="A{i}" t="inlineStr"><is><t>{line}</t></is></c>' for i, line in enumerate(lines, start=1))
        rows = "".join(f'<row r="{i}">{cell}</row>' for i, cell in enumerate(cells, start=1))
        parts["xl/worksheets/sheet1.xml"] = f'<worksheet xmlns="{_SHEET_NS}"><sheetData>{rows}</sheetData></worksheet>'
        parts["xl/_rels/workbook.xml.rels"] = _relationship("worksheets/sheet1.xml", "worksheet")
        overrides += _override("xl/worksheets/sheet1.xml", f"{_OPENXML}.spreadsheetml.worksheet+xml")
    else:
        parts[part] = '<p:presentation xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"/>'
    defaults = (
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
    )
    parts["[Content_Types].xml"] = f'<Types xmlns="{_PACKAGE}/content-types">{defaults}{overrides}</Types>'
    parts["_rels/.rels"] = _relationship(part, "officeDocument")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, xml in parts.items():
            package.writestr(name, xml)
    return buffer.getvalue()
