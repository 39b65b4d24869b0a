"""Language choice and the message catalogues (Chinese by default, English available)."""
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, current_app, has_request_context, redirect, request, session
from flask_login import current_user
# Jinja's own newstyle wrappers (what install_gettext_callables applies), so bound and global behave alike.
from jinja2.ext import _make_new_gettext, _make_new_ngettext, _make_new_npgettext, _make_new_pgettext

from forms.translatable import set_translations_provider

from .config import LANGUAGES
from .extensions import db
from .redirects import safe_next

bp = Blueprint("i18n", __name__)
# Catalogues are stored by language ("zh"): Babel reads zh_CN as zh_Hans_CN,
# and gettext falls back from that to the bare language.
TRANSLATIONS = Path(__file__).parent / "translations"


def select_locale():
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.language in LANGUAGES:
        return current_user.language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def compile_catalogs():
    """Compile each .po next to it when its .mo is missing or older.

    Keeps the repository free of generated binaries; costs a stat per
    language at start-up.
    """
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        tmp = mo_path.with_suffix(".mo.tmp")
        with tmp.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        tmp.replace(mo_path)


@bp.post("/language/<lang>")
def choose(lang):
    if lang in LANGUAGES:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.language = lang
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), "home.index"))


def _reader_translations():
    """The reader's catalogue for the form layer's messages (forms.translatable); None outside a request."""
    if not has_request_context():
        return None
    from flask_babel import get_translations
    return get_translations()


def _bound_gettext():
    """The template's ``_``/``ngettext``, bound to this render's catalogue.

    Flask-Babel's own look the catalogue up again on every call (a dozen context lookups, tens of
    microseconds: a list page asks hundreds of times). Bound when a template renders, they follow
    ``force_locale`` as well: a notification rendered in its reader's language gets that catalogue."""
    from flask_babel import get_translations
    translations = get_translations()
    return {"gettext": _make_new_gettext(translations.ugettext),
            "ngettext": _make_new_ngettext(translations.ungettext),
            "pgettext": _make_new_pgettext(translations.upgettext),
            "npgettext": _make_new_npgettext(translations.unpgettext)}


def init_app(app):
    from .job_labels import job_label
    set_translations_provider(_reader_translations)
    app.register_blueprint(bp)
    app.add_template_global(job_label)
    app.context_processor(_bound_gettext)
