"""Uploaded files: the type is read from the content, images are re-encoded.

The file name and the browser's declared type are never trusted: a ``.jpg``
that starts like a PDF is a PDF, and is refused where only images are.
An image is decoded only when its header shows no more pixels than the limit
the caller passes, in memory bounded by the size it is stored at, and is
refused when truncated, whatever Pillow's process-wide settings say. No
Flask here: limits and the decode gate come in as arguments.
"""
import contextlib
import io
import struct
from typing import NamedTuple

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


class ImageLimits(NamedTuple):
    """What decoding one image may cost: pixels in the file, and the longest side kept."""
    max_pixels: int
    max_side: int


class Reencoded(NamedTuple):
    data: bytes
    size: tuple[int, int]  # as stored
    decoded_size: tuple[int, int]  # as held in memory while decoding (reduced for big JPEGs)


# Only the decoder the content was sniffed as may read it.
_PILLOW_FORMATS = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG"}


class _EndWatch:
    """A file wrapper that notes when a read finds the end of the file.

    Pillow's decode loop asks the file for more bytes only while the decoder
    still needs them, and reading nothing back is exactly how it recognises a
    truncated JPEG or PNG. With ``ImageFile.LOAD_TRUNCATED_IMAGES`` off that
    raises; with it on (WeasyPrint switches it on for the whole process when
    imported) Pillow pads the image with grey and carries on. The flag is a
    module global read by every thread, so flipping it here would change
    other threads' renders; watching the reads gives the same verdict as
    Pillow's own check, whatever the flag says. (``ImageFile.Parser`` is no
    way round it: JPEG and PNG have custom readers, so it falls back to a
    plain ``load()`` which honours the flag.)
    """

    def __init__(self, raw):
        self._raw = raw
        self.hit_end = False

    def read(self, size=-1):
        data = self._raw.read(size)
        if not data and size != 0:
            self.hit_end = True
        return data

    def __getattr__(self, name):
        return getattr(self._raw, name)


def reencode_image(stream, kind, name, limits, gate=None):
    """Decode and encode again: drops EXIF (GPS included) and anything hidden after the image.

    Memory stays bounded: the pixel count is checked from the header before
    anything is decoded, JPEGs decode at a reduced scale towards
    ``limits.max_side``, and ``gate`` (a context manager, e.g. a semaphore)
    is held while the pixels are in memory. A truncated image is refused.
    """
    watch = _EndWatch(stream)
    try:
        with Image.open(watch, formats=[_PILLOW_FORMATS[kind]]) as image:
            width, height = image.size
            # Pillow's own limit still applies above ours, whatever the setting says.
            cap = min(limits.max_pixels, Image.MAX_IMAGE_PIXELS or limits.max_pixels)
            if width * height > cap:
                raise UploadRefused("image_pixels", name=name, width=width, height=height,
                                    megapixels=f"{width * height / 1e6:.1f}", limit=f"{cap / 1e6:g}")
            with gate if gate is not None else contextlib.nullcontext():
                return _decode(image, watch, kind, name, limits)
    except Image.DecompressionBombError:
        raise UploadRefused("image_bomb") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error, EOFError):
        if watch.hit_end:
            raise UploadRefused("image_truncated", name=name) from None
        raise UploadRefused("image_broken") from None


def _decode(image, watch, kind, name, limits):
    width, height = image.size
    ratio = min(1.0, limits.max_side / max(width, height))
    if kind in ("jpg", "jpeg"):
        # libjpeg scales by 1/2, 1/4 or 1/8 while decoding: the full-size
        # pixels never exist. The box has the image's own proportions, so a
        # panorama is reduced as much as a square photo.
        image.draft("RGB", (max(1, int(width * ratio)), max(1, int(height * ratio))))
    image.load()
    if watch.hit_end:
        raise UploadRefused("image_truncated", name=name)
    decoded_size = image.size
    image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    ImageOps.exif_transpose(image, in_place=True)
    out = io.BytesIO()
    if kind in ("jpg", "jpeg"):
        (image if image.mode == "RGB" else image.convert("RGB")).save(out, "JPEG", quality=88, optimize=True)
    else:
        image.save(out, "PNG", optimize=False)
    return Reencoded(out.getvalue(), image.size, decoded_size)


def human_size(size):
    if size >= 1024 ** 2:
        return f"{size / 1024 ** 2:g} MB"
    if size >= 1024:
        return f"{size / 1024:g} KB"
    return f"{size} B"
