"""Files units attach to a claim or a dispute: limited in size (rectify.toml upload_max_mb) and type, the type decided by
the content (the `filetype` library reads the magic bytes; the name and the browser's claimed type are not trusted),
stored in the data directory's storage under rectify/<item>/ (never under the web root), served by the web only to those
who may see the item."""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from io import BytesIO
from pathlib import PurePosixPath

import filetype

from ..storage import storage
from .models import Attachment, Item, ItemEvent

# content types accepted, by what the bytes are: images, PDF, Office documents (OOXML zip, legacy OLE)
IMAGE = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp"}
OFFICE_ZIP = {"word/": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
              "xl/": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
              "ppt/": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation")}
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MAX_FILES = 5
ZIP_MAX_ENTRIES, ZIP_MAX_RATIO = 2000, 200  # an Office file is a zip: a zip bomb is refused before anyone opens it


class UploadError(ValueError):
    """Why a file was refused (the message is for the user, in Chinese)."""


def max_bytes(item: Item) -> int:
    from .services import settings_for

    return int(float(settings_for(item.round_issued).get("upload_max_mb", 10)) * 1024 * 1024)


def sniff(data: bytes) -> tuple[str, str]:
    """(extension, content type) of an accepted file, decided by its bytes; UploadError otherwise."""
    if data.startswith(OLE):
        return _ole(data)
    kind = filetype.guess(data[:8192])
    if kind is not None and kind.mime in IMAGE:
        _image(data)
        return kind.extension, kind.mime
    if kind is not None and kind.mime == "application/pdf":
        return "pdf", "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(data)) as z:
                infos = z.infolist()
                if len(infos) > ZIP_MAX_ENTRIES or sum(i.file_size for i in infos) > ZIP_MAX_RATIO * max(len(data), 1):
                    raise UploadError("文件解压后过大或条目过多，已拒收")
                names = [i.filename for i in infos]
        except zipfile.BadZipFile:
            raise UploadError("文件已损坏，无法识别") from None
        if any(PurePosixPath(n).name.lower() == "vbaproject.bin" for n in names):
            raise UploadError("文件含有宏，已拒收；请另存为不含宏的文档或 PDF 后上传")
        if "[Content_Types].xml" in names:
            for prefix, (ext, mime) in OFFICE_ZIP.items():
                if any(n.startswith(prefix) for n in names):
                    return ext, mime
    raise UploadError("只能上传图片（PNG、JPEG、GIF、WebP、BMP）、PDF 或 Office 文档（Word、Excel、PowerPoint）")


# legacy Office files (OLE compound documents) by the stream that makes them one; other OLE files (installers, ...) refused
OLE_KINDS = (("WordDocument", "doc", "application/msword"), ("Workbook", "xls", "application/vnd.ms-excel"),
             ("Book", "xls", "application/vnd.ms-excel"), ("PowerPoint Document", "ppt", "application/vnd.ms-powerpoint"))


def _ole(data: bytes) -> tuple[str, str]:
    """A legacy Word, Excel or PowerPoint file, told apart by its streams (an .xls is not a .doc)."""
    import io

    from xlrd.compdoc import CompDoc

    try:
        names = {e.name for e in CompDoc(data, logfile=io.StringIO()).dirlist}
    except Exception:  # noqa: BLE001 - xlrd's CompDocError and whatever a malformed directory raises
        raise UploadError("文件已损坏，无法识别") from None
    for stream, ext, mime in OLE_KINDS:
        if stream in names:
            return ext, mime
    raise UploadError("只能上传 Word、Excel 或 PowerPoint 文档，该文件不是其中之一")


def _image(data: bytes) -> None:
    """An image's magic bytes are not enough (a PNG header can front an HTML page): Pillow must open it as an image
    (its header chunks read and checked, pixels not decoded; a decompression bomb is refused too)."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data)) as im:
                ok = im.size[0] > 0 and im.size[1] > 0
    except Exception:  # noqa: BLE001 - whatever Pillow cannot open is not an image we keep
        ok = False
    if not ok:
        raise UploadError("图片文件已损坏或不是真正的图片，已拒收")


def _read(f) -> tuple[str, bytes]:
    """(name, bytes) of an uploaded file (Django UploadedFile) or of a (name, bytes) pair."""
    if isinstance(f, tuple):
        return str(f[0]), bytes(f[1])
    return str(getattr(f, "name", "") or "附件"), f.read()


def check(files, item: Item) -> list[tuple[str, bytes, str, str]]:
    """Every file checked before anything is stored (one bad file refuses the lot: nothing half-kept)."""
    files = [f for f in files or () if f]
    if len(files) > MAX_FILES:
        raise UploadError(f"一次最多上传{MAX_FILES}个文件")
    limit, out = max_bytes(item), []
    for f in files:
        size = getattr(f, "size", None)
        if size is not None and size > limit:
            raise UploadError(f"文件“{getattr(f, 'name', '')}”超过{limit // (1024 * 1024)}MB，已拒收")
        name, data = _read(f)
        if len(data) > limit:
            raise UploadError(f"文件“{name}”超过{limit // (1024 * 1024)}MB，已拒收")
        if not data:
            raise UploadError(f"文件“{name}”是空的")
        ext, mime = sniff(data)
        out.append((_clean_name(name, ext), data, ext, mime))
    return out


def _clean_name(name: str, ext: str) -> str:
    """The name shown to users: no path, no control characters, at most 150 characters, the extension of its content."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = "".join(ch for ch in base if ch.isprintable()).strip() or "附件"
    stem = (base.rsplit(".", 1)[0] if "." in base else base).strip() or "附件"
    return f"{stem[:140]}.{ext}"


def attach(item: Item, event: ItemEvent | None, files, actor: str) -> list[Attachment]:
    """Check and store the files with the event they came with; UploadError (nothing stored) when one is refused."""
    checked = check(files, item)
    store, out, written = storage(), [], []
    try:
        for name, data, ext, mime in checked:
            key = f"rectify/{item.pk}/{uuid.uuid4().hex}.{ext}"
            p = store.path(key)
            p.parent.mkdir(parents=True, exist_ok=True)
            written.append(p)
            p.write_bytes(data)
            out.append(Attachment.objects.create(item=item, event=event, uploaded_by=actor, name=name, content_type=mime,
                                                 size=len(data), sha256=hashlib.sha256(data).hexdigest(), key=key))
    except BaseException:  # a write or a row failed midway: the files written so far go too (the rows roll back)
        _remove(written)
        raise
    return out


def discard(attachments: list[Attachment]) -> None:
    """Remove the stored files of attachments whose rows were rolled back (the act they came with failed later)."""
    store = storage()
    _remove([store.path(a.key) for a in attachments])


def _remove(paths) -> None:
    for p in paths:
        try:
            p.unlink(missing_ok=True)
        except OSError:
            pass
