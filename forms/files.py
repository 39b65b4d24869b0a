"""Uploaded files: the type is read from the content, images are re-encoded.

The file name and the browser's declared type are never trusted: a ``.jpg``
that starts like a PDF is a PDF, and is refused where only images are.
"""
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

# type → (signature test on the first bytes, canonical extension, mimetype)
KNOWN_TYPES = {
    "jpg": (lambda h: h.startswith(b"\xff\xd8\xff"), "jpg", "image/jpeg"),
    "jpeg": (lambda h: h.startswith(b"\xff\xd8\xff"), "jpg", "image/jpeg"),
    "png": (lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"), "png", "image/png"),
    "gif": (lambda h: h[:6] in (b"GIF87a", b"GIF89a"), "gif", "image/gif"),
    "webp": (lambda h: h[:4] == b"RIFF" and h[8:12] == b"WEBP", "webp", "image/webp"),
    "pdf": (lambda h: h.startswith(b"%PDF-"), "pdf", "application/pdf"),
    "docx": (lambda h: h.startswith(b"PK\x03\x04"), "docx",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": (lambda h: h.startswith(b"PK\x03\x04"), "xlsx",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "doc": (lambda h: h.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "doc", "application/msword"),
    "xls": (lambda h: h.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "xls", "application/vnd.ms-excel"),
}
IMAGE_TYPES = ("jpg", "jpeg", "png")
DEFAULT_FILE_TYPES = ("pdf", "jpg", "png", "docx", "xlsx")


class UploadRefused(Exception):
    """str() is a message key in forms.messages; ``params`` fill it in."""

    def __init__(self, key, **params):
        super().__init__(key)
        self.key = key
        self.params = params


def allowed_types(field):
    if field.accept:
        return tuple(field.accept)
    return IMAGE_TYPES if field.type == "image" else DEFAULT_FILE_TYPES


def sniff(head, allowed, filename):
    """The allowed type the content matches; the name's extension settles ties (docx vs xlsx)."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    matches = [t for t in allowed if KNOWN_TYPES[t][0](head)]
    if not matches:
        return None
    return extension if extension in matches else matches[0]


def size_of(stream):
    """Size of a seekable upload without reading it into memory."""
    position = stream.tell()
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(position)
    return size


def check(stream, filename, field):
    """Check one upload against ``field``; returns (type, extension, mimetype) or raises UploadRefused."""
    size = size_of(stream)
    if size == 0:
        raise UploadRefused("file_empty", name=filename)
    if size > field.max_size:
        raise UploadRefused("file_too_big", name=filename, limit=human_size(field.max_size))
    head = stream.read(16)
    stream.seek(0)
    allowed = allowed_types(field)
    kind = sniff(head, allowed, filename)
    if kind is None:
        raise UploadRefused("file_type", name=filename, allowed=", ".join(a.upper() for a in allowed))
    _, extension, mimetype = KNOWN_TYPES[kind]
    return kind, extension, mimetype


def reencode_image(stream, kind):
    """Decode and encode again: drops EXIF (GPS included) and anything hidden after the image.

    Pillow's decompression-bomb limit stays in force; its warning is treated
    as a refusal too.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
                out = io.BytesIO()
                if kind in ("jpg", "jpeg"):
                    image.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
                else:
                    image.save(out, "PNG", optimize=False)
                return out.getvalue(), image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRefused("image_bomb") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadRefused("image_broken") from None


def human_size(size):
    if size >= 1024 ** 2:
        return f"{size / 1024 ** 2:g} MB"
    if size >= 1024:
        return f"{size / 1024:g} KB"
    return f"{size} B"
