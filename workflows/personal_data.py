"""Personal data at rest (PIPL): ID numbers encrypted, hashed for de-duplication, shown masked.

In stored answers an ID number is ``{"masked": "3412**********1234",
"hash": HMAC, "enc": Fernet token}``; the plain number exists only in a
request that fills or edits the form.
"""
import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from forms import idcard


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


def masked(spec, answers):
    """Stored answers → ID numbers as their masked form, for display."""
    return _map(spec, answers, lambda v: v.get("masked") if isinstance(v, dict) else idcard.mask(v))
