"""Chinese resident ID numbers (GB 11643-1999): 17 digits and a check character."""
import re
from datetime import date

_SHAPE = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def normalise(text):
    return (text or "").strip().upper()


def check_character(first17):
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def problem(text):
    """None when ``text`` is a valid 18-character ID number, else a message key."""
    number = normalise(text)
    if not _SHAPE.match(number):
        return "id_shape"
    if birth_date(number) is None:
        return "id_birth"
    if check_character(number[:17]) != number[17]:
        return "id_check"
    return None


def birth_date(number):
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    return born if date(1900, 1, 1) <= born <= date.today() else None


def mask(number):
    """3412**********1234: the region's first four and the last four stay readable."""
    number = normalise(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:] if len(number) > 8 else "*" * len(number)
