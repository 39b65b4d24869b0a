"""How the engine reads a submission's stored answers before checking them.

Stored answers hold personal data encrypted; only the filling package knows
how to open it. It registers its reader here when the app is created, so the
engine checks a draft's completeness without importing any feature package.
Reading before a reader is registered is a wiring error, never a silent
check of ciphertext.
"""
_reader = None


def register_reader(reader):
    """``reader(form_spec, stored_answers) -> answers`` as the form layer validates them."""
    global _reader
    _reader = reader


def read(form_spec, stored):
    if _reader is None:
        raise RuntimeError("no stored-answers reader registered: call the filling package's init_app first")
    return _reader(form_spec, stored)
