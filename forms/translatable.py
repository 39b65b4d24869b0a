"""Words the form layer says to the people who write definitions, kept as a msgid and its values.

Definitions are checked where there is no Flask app (``flask forms check``
prints English, the tests and the expression vectors compare English), and
in the editor, where office staff read them in their own language. So a
message is built once, as data, and becomes text only when it is shown: in
the reader's language inside a request (through the app's catalogue), in
English anywhere else. It is hashable and compares by msgid and values, so a
cached result or a frozen Problem holding one is the same whoever reads it.

``_l``, ``lazy_ngettext`` and ``lazy_pgettext`` are named after the
flask_babel functions so ``pybabel extract`` collects their msgids.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Translatable:
    msgid: str
    params: tuple = ()
    plural: str | None = None
    context: str | None = None

    def __str__(self):
        return self.render(_request_translations())

    def __format__(self, spec):
        return format(str(self), spec)

    def render(self, translations=None):
        """The text in ``translations``' language (a gettext catalogue), or in English when None."""
        values = {name: str(value) if isinstance(value, Translatable) else value for name, value in self.params}
        if self.plural is not None:
            n = values["num"]
            if translations is None:
                text = self.msgid if n == 1 else self.plural
            elif self.context is not None:
                text = translations.unpgettext(self.context, self.msgid, self.plural, n)
            else:
                text = translations.ungettext(self.msgid, self.plural, n)
        elif translations is None:
            text = self.msgid
        elif self.context is not None:
            text = translations.upgettext(self.context, self.msgid)
        else:
            text = translations.ugettext(self.msgid)
        return text % values if values else text


# Set by the application (workflows.i18n): () -> the reader's gettext catalogue, or None outside a request.
# The form layer knows no web framework; without a provider every message is English.
_translations_provider = None


def set_translations_provider(provider):
    global _translations_provider
    _translations_provider = provider


def _request_translations():
    return _translations_provider() if _translations_provider is not None else None


def _l(msgid, **params):
    return Translatable(msgid, tuple(sorted(params.items())))


def lazy_pgettext(context, msgid, **params):
    return Translatable(msgid, tuple(sorted(params.items())), context=context)


def lazy_ngettext(singular, plural, num, **params):
    """Counted text; ``%(num)d`` is the count, as in flask_babel's ngettext."""
    return Translatable(singular, tuple(sorted(dict(params, num=num).items())), plural=plural)

