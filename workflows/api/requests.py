"""Reading API requests: the JSON body, numbers and text in it or in the query string, the Idempotency-Key."""
import math
import re

from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from .errors import BadRequest

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
MAX_ID = 2 ** 31 - 1          # the integer columns' range; larger ids exist nowhere
MAX_NUMBER = 2 ** 63


def _check_text(value, path="body"):
    """Refuse what the databases cannot store: NUL characters, lone surrogates, non-finite or huge numbers."""
    if isinstance(value, str):
        if "\x00" in value:
            raise BadRequest(_("Text may not contain NUL characters."), field=path)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(_("Text must be valid Unicode."), field=path) from None
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadRequest(_("Numbers must be finite."), field=path)
        if abs(value) >= MAX_NUMBER:
            raise BadRequest(_("This number is too large."), field=path)
    elif isinstance(value, int):
        if abs(value) >= MAX_NUMBER:
            raise BadRequest(_("This number is too large."), field=path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if path == "body":
                _check_text(key, path)
            # A name inside (answers, a row) is never stored unless it is a field's: one with a NUL
            # character is "no such field" (422) there, as the document's Answers says.
            _check_text(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_text(item, f"{path}[{index}]")


def _body(allowed, required=()):
    """The JSON object sent, with only the ``allowed`` keys; an empty body is ``{}``."""
    if not request.get_data(cache=True) and not required:
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BadRequest(_("Send a JSON object with “Content-Type: application/json”."))
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise BadRequest(_("Unknown key(s): %(keys)s.", keys=", ".join(unknown)), field=unknown[0])
    for key in required:
        if key not in data:
            raise BadRequest(_("“%(key)s” is required.", key=key), field=key)
    _check_text(data)
    return data


def _int(data, key, low=0, high=MAX_ID, default=None):
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(_("“%(key)s” must be a whole number from %(low)d to %(high)d.", key=key, low=low,
                           high=high), field=key)
    return value


def _text(data, key, limit):
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadRequest(_("“%(key)s” must be text of at most %(n)d characters.", key=key, n=limit), field=key)
    return value


def _arg_int(name, low, high, default=None):
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,10}", raw) or not low <= int(raw) <= high:
        raise BadRequest(_("“%(key)s” must be a whole number from %(low)d to %(high)d.", key=name, low=low,
                           high=high), field=name)
    return int(raw)


def _arg_text(name, limit=64):
    raw = request.args.get(name) or None
    if raw is not None:
        _check_text(raw, name)
        if len(raw) > limit:
            raise BadRequest(_("“%(key)s” must be text of at most %(n)d characters.", key=name, n=limit),
                             field=name)
    return raw


def _idempotency_key():
    key = request.headers.get("Idempotency-Key")
    if key is None or key == "":
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise BadRequest(_("Idempotency-Key must be 1 to 128 visible ASCII characters."), field="Idempotency-Key")
    return key


def _user():
    return current_user._get_current_object()
