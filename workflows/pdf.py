"""PDF rendering with WeasyPrint, confined to the app's own static files.

Documents are rendered on the server from templates that may carry user
text, so the renderer must never reach the network or the local disk: the
URL fetcher serves the static folder and ``data:`` URIs, and refuses the rest.
"""
import mimetypes
import re
from urllib.parse import unquote, urlsplit

from flask import current_app
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

# Relative URLs are joined to this; urljoin leaves "/static/..." untouched for
# an unknown scheme, so the fetcher sees the app path and maps it itself.
STATIC_BASE = "static:/"

FONT_KEYS = {
    "title": "PDF_FONT_TITLE",
    "body": "PDF_FONT_BODY",
    "heading": "PDF_FONT_HEADING",
    "kai": "PDF_FONT_KAI",
    "page_number": "PDF_FONT_PAGE_NUMBER",
}
# A font-family list is quoted names and commas; anything that could close the
# declaration or the <style> element is refused rather than escaped.
_FONT_FAMILY = re.compile(r'[^<>{};\\]+')


class _StaticFetcher(URLFetcher):
    def __init__(self, static_folder, static_url_path):
        # allowed_protocols makes the inherited fetch() refuse all but data:.
        super().__init__(allowed_protocols=("data",), allow_redirects=False)
        self._folder = static_folder
        self._prefix = (static_url_path or "/static").rstrip("/") + "/"

    def fetch(self, url, headers=None):
        if url.startswith(STATIC_BASE):
            path = url[len(STATIC_BASE):]
        elif url.startswith(self._prefix):
            path = url[len(self._prefix):]
        else:
            return super().fetch(url, headers)
        path = unquote(urlsplit(path).path).lstrip("/")
        full = safe_join(self._folder, path) if self._folder and path else None
        if full is None:
            raise ValueError(f"refused static path: {url}")
        content_type = mimetypes.guess_type(full)[0] or "application/octet-stream"
        return URLFetcherResponse(url, open(full, "rb"), {"Content-Type": content_type})


def url_fetcher_for(app):
    """A WeasyPrint fetcher for ``app``'s static files and data: URIs only."""
    return _StaticFetcher(*static_of(app))


def static_of(app):
    """What the fetcher serves (the static folder and its URL path): all a child process rendering for
    ``app`` needs of it."""
    return app.static_folder, app.static_url_path


def layout(html, *, base_url=None, font_config=None, static=None):
    """``html`` laid out in pages (a WeasyPrint Document, written with ``write_pdf``), fetching as above;
    ``static`` (from ``static_of``) stands for the current app in a process that has none."""
    fetcher = _StaticFetcher(*static) if static else url_fetcher_for(current_app)
    return HTML(string=html, base_url=base_url or STATIC_BASE, url_fetcher=fetcher).render(font_config=font_config)


def render_pdf(html, target, *, base_url=None, font_config=None):
    """Write ``html`` as PDF to ``target`` (path or binary file); return the page count.

    ``font_config`` (a ``weasyprint.text.fonts.FontConfiguration``) may be
    shared by the documents of one job: the fonts are then looked up once.
    """
    document = layout(html, base_url=base_url, font_config=font_config)
    document.write_pdf(target)
    return len(document.pages)


def font_context(app):
    """The configured font-family lists, marked safe for the templates' <style>."""
    fonts = {}
    for name, key in FONT_KEYS.items():
        value = app.config[key]
        if not _FONT_FAMILY.fullmatch(value):
            raise ValueError(f"{key}: not a CSS font-family list: {value!r}")
        fonts[name] = Markup(value)
    return fonts
