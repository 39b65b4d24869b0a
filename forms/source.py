"""Reading definition text safely: size first, then encoding, then nesting depth.

Every way a form or workflow definition comes in (``flask forms check|load``,
``flask workflows check|load``, the admin upload) reads it through
``read_definition``, and every parse goes through ``check_nesting``, so a
50 MB file is refused before it is read, binary data is refused as not UTF-8
(at the line of the first bad byte), and ``[[[…]]]`` 10,000 deep is refused by
counting, before anything recursive sees it. Problems are
``DefinitionError``s, one ``Problem`` each, for the caller to print or show.
"""
from dataclasses import dataclass

import yaml

from .translatable import _l

MAX_SOURCE = 256 * 1024  # bytes of UTF-8
MAX_DEPTH = 40  # the built-in definitions nest 7 deep

# libyaml's parser when PyYAML was built with it; the same safe constructors either way.
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


@dataclass(frozen=True)
class Problem:
    """A mistake at ``path`` (line ``line``); ``message`` a Translatable (read in the reader's language) or a str."""
    path: str
    message: str
    line: int | None = None

    def __str__(self):
        return f"{self.path}: {self.message}" if self.path else str(self.message)


class DefinitionError(Exception):
    def __init__(self, problems):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class TooLarge(DefinitionError):
    """The source is over MAX_SOURCE; it was not read further."""


class NotText(DefinitionError):
    """The source is not UTF-8 text."""


def _refuse(message, line=None, kind=DefinitionError):
    return kind([Problem("", message, line)])


def too_large_message():
    return _l("definition too large (more than %(kb)d KB)", kb=MAX_SOURCE // 1024)


def read_definition(stream):
    """The text of a definition from a binary ``stream``; reads at most MAX_SOURCE + 1 bytes."""
    data = stream.read(MAX_SOURCE + 1)
    if len(data) > MAX_SOURCE:
        raise _refuse(too_large_message(), kind=TooLarge)
    return decode_definition(data)


def read_definition_file(path):
    """``read_definition`` of the file at ``path``; an unreadable file is a Problem too."""
    try:
        with open(path, "rb") as handle:
            return read_definition(handle)
    except OSError as exc:
        raise _refuse(_l("cannot read the file: %(reason)s", reason=exc.strerror or str(exc))) from None


def decode_definition(data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise _refuse(_l("not UTF-8 text"), line, NotText) from None
    return text.removeprefix("\ufeff")


def check_size(source):
    # Characters first: a text that long is too large whatever it encodes to.
    if len(source) > MAX_SOURCE or len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE:
        raise _refuse(too_large_message(), kind=TooLarge)


def check_nesting(source):
    """Refuse YAML nested deeper than MAX_DEPTH, by counting the parser's events.

    The event parser keeps its own stack (no recursion); building nodes from
    the events is recursive, so this runs first.
    """
    parser = Loader(source)
    depth = 0
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _refuse(_l("nested too deeply (more than %(levels)d levels)", levels=MAX_DEPTH),
                                  event.start_mark.line + 1 if event.start_mark else None)
            elif isinstance(event, _CLOSE):
                depth -= 1
    except yaml.YAMLError as exc:
        # libyaml stops at its own depth limit while scanning ahead; same problem, same words.
        if "nesting depth" in str(getattr(exc, "problem", "")):
            mark = getattr(exc, "problem_mark", None)
            raise _refuse(_l("nested too deeply (more than %(levels)d levels)", levels=MAX_DEPTH),
                          mark.line + 1 if mark else None) from None
        return  # the real parse reports it, with its line
    finally:
        parser.dispose()
