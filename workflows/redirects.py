"""Where a redirect may go: every user-supplied target passes through ``safe_next``.

Invariant: a redirect built from request data points at a path of this site,
as a browser reads it. Browsers drop tabs and newlines anywhere in a URL,
trim control characters and spaces at its ends, and read "\\" as "/", so
"/\\t/evil.example" or "/\\\\evil.example" become "//evil.example", another
host. Rather than reproduce each browser's repairs, anything that could be
repaired is refused: only a plain absolute path without control, format or
separator characters, backslashes or a second leading slash is kept. A
refused target falls back to a page of the app; nothing here raises, so a
hostile target never turns into a 500.
"""
import re
import unicodedata
from urllib.parse import urlsplit

from flask import url_for

# Longer targets are not links anyone followed; they also keep headers small.
MAX_TARGET = 2048
# A percent-encoded control character is harmless in a path, but nothing legitimate carries one.
_ENCODED_CONTROL = re.compile(r"%(?:[01][0-9a-f]|7f)", re.IGNORECASE)


def is_same_site_path(target):
    """True for a path of this site such as "/submissions/?state=draft"."""
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET:
        return False
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    # Cc control, Cf format (bidi marks), Zs/Zl/Zp spaces and separators, unassigned or surrogates.
    if any(unicodedata.category(ch)[0] in "CZ" for ch in target):
        return False
    if _ENCODED_CONTROL.search(target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target, fallback_endpoint, **values):
    """``target`` when it is a same-site path, else the URL of ``fallback_endpoint`` (with ``values``)."""
    if is_same_site_path(target):
        return target
    return url_for(fallback_endpoint, **values)
