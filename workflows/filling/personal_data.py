"""Personal data at rest (PIPL): ID numbers encrypted, hashed for de-duplication, shown masked.

In stored answers an ID number is ``{"masked": "3412**********1234",
"hash": HMAC, "enc": Fernet token}``; the plain number exists only in a
request that fills or edits the form. Anyone but the submitting unit sees
only its last four digits (``**************1234``) and, of a value
calculated from it, at most the birth year: the region digits and a full
birth date together would leave one plausible number.
"""
import base64
import hashlib
import hmac
import re

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from forms import idcard

from ..access import holds_at
from ..engine.versions import form_spec_of
from ..models import Role


def _keys():
    raw = base64.urlsafe_b64decode(current_app.config["DATA_KEY"].encode())
    # Separate keys for encryption and hashing, both derived from DATA_KEY.
    enc = hashlib.sha256(b"wenming-enc" + raw).digest()
    mac = hashlib.sha256(b"wenming-mac" + raw).digest()
    return Fernet(base64.urlsafe_b64encode(enc)), mac


def protect_number(number):
    fernet, mac = _keys()
    number = idcard.normalise(number)
    return {"masked": idcard.mask(number),
            "hash": hmac.new(mac, number.encode(), hashlib.sha256).hexdigest(),
            "enc": fernet.encrypt(number.encode()).decode()}


def hash_number(number):
    _, mac = _keys()
    return hmac.new(mac, idcard.normalise(number).encode(), hashlib.sha256).hexdigest()


def reveal_number(envelope):
    if not isinstance(envelope, dict):
        return envelope
    fernet, _ = _keys()
    try:
        return fernet.decrypt(envelope["enc"].encode()).decode()
    except (InvalidToken, KeyError):
        return None


def is_protected(value):
    return isinstance(value, dict) and "enc" in value


def _id_fields(spec):
    top = [f.name for f in spec.fields if f.type == "id_card"]
    rows = {f.name: [c.name for c in f.columns if c.type == "id_card"] for f in spec.fields if f.type == "repeat"}
    return top, {k: v for k, v in rows.items() if v}


def _map(spec, answers, change):
    top, rows = _id_fields(spec)
    out = dict(answers)
    for name in top:
        if out.get(name) is not None:
            out[name] = change(out[name])
    for repeat, columns in rows.items():
        new_rows = []
        for row in out.get(repeat) or []:
            row = dict(row)
            for column in columns:
                if row.get(column) is not None:
                    row[column] = change(row[column])
            new_rows.append(row)
        if repeat in out:
            out[repeat] = new_rows
    return out


def protect(spec, answers):
    """Plain answers → answers safe to store."""
    return _map(spec, answers, lambda v: v if is_protected(v) else protect_number(v))


def reveal(spec, answers):
    """Stored answers → plain ID numbers again, for the people who edit them."""
    return _map(spec, answers, reveal_number)




def last_four(value):
    """``**************1234``: what anyone but the submitting unit sees of an ID number."""
    text = value.get("masked") if isinstance(value, dict) else idcard.normalise(value)
    text = text or ""
    return "*" * max(len(text) - 4, 0) + text[-4:]


def shows(envelope, text):
    """Whether ``text`` is a mask the app gave out for the stored ``envelope`` (sent back unchanged)."""
    return is_protected(envelope) and isinstance(text, str) and text in (envelope.get("masked"), last_four(envelope))


def _derived(spec):
    """Calculated fields whose value comes from an ID number, directly or through another calculation.

    Returns (top-level names, {repeat: column names}).
    """
    top, rows = _id_fields(spec)
    top = set(top)
    rows = {name: set(columns) for name, columns in rows.items()}
    repeats = [f for f in spec.fields if f.type == "repeat"]
    changed = True
    while changed:
        changed = False
        for field in spec.fields:
            if field.type == "calculate" and field.name not in top and field.calculate is not None \
                    and _uses(field.calculate.tree, top, rows, None):
                top.add(field.name)
                changed = True
        for repeat in repeats:
            sensitive = rows.setdefault(repeat.name, set())
            for column in repeat.columns:
                if column.type == "calculate" and column.name not in sensitive and column.calculate is not None \
                        and _uses(column.calculate.tree, top, rows, sensitive):
                    sensitive.add(column.name)
                    changed = True
    plain_top, plain_rows = _id_fields(spec)
    return (top - set(plain_top),
            {name: columns - set(plain_rows.get(name, [])) for name, columns in rows.items()})


def _uses(tree, top, rows, row_columns):
    if not isinstance(tree, tuple) or not tree:
        return False
    kind = tree[0]
    if not isinstance(kind, str):  # a tuple of arguments
        return any(_uses(part, top, rows, row_columns) for part in tree)
    if kind == "name" and len(tree) == 2:
        return tree[1] in top
    if kind == "column" and len(tree) == 3:
        return tree[2] in rows.get(tree[1], ())
    if kind == "row" and len(tree) == 2:
        return row_columns is not None and tree[1] in row_columns
    return any(_uses(part, top, rows, row_columns) for part in tree[1:]
               if isinstance(part, tuple))


_DATE = re.compile(r"^(\d{4})-\d{2}-\d{2}")


def _coarse(value):
    """A value calculated from an ID number: a date keeps its year, a yes/no stays, anything else is withheld.

    A number may be a count of days since birth, so it is withheld too.
    """
    if value is None or isinstance(value, bool):
        return value
    match = _DATE.match(value) if isinstance(value, str) else None
    return match.group(1) if match else None


def masked(spec, answers, submitting_unit=False):
    """Stored answers → what a person may see of them.

    The submitting unit keeps the stored mask and every calculated value;
    anyone else gets the last four digits and coarse derived values.
    """
    if submitting_unit:
        return _map(spec, answers, lambda v: v.get("masked") if isinstance(v, dict) else idcard.mask(v))
    out = _map(spec, answers, last_four)
    derived_top, derived_rows = _derived(spec)
    for name in derived_top:
        if name in out:
            out[name] = _coarse(out[name])
    for repeat, columns in derived_rows.items():
        if columns and isinstance(out.get(repeat), list):
            out[repeat] = [{k: (_coarse(v) if k in columns else v) for k, v in row.items()}
                           if isinstance(row, dict) else row for row in out[repeat]]
    return out


def at_submitting_unit(user, submission):
    """The person who filed it, or a filler of the very unit it was filed for."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if submission.created_by_id == user.id:
        return True
    return holds_at(user, Role.FILLER, submission.unit)


def shown_to(user, submission):
    """The submission's answers as ``user`` may see them."""
    return masked(form_spec_of(submission), submission.answers or {},
                  submitting_unit=at_submitting_unit(user, submission))
