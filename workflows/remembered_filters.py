"""A list page's filters, remembered in the session while the person works.

Submitting the filter form (any of the page's filter keys present, even
empty) saves what was chosen; opening the page bare, without any argument
(from the top bar) brings the saved choice back; ``?clear=1`` forgets it.
"""
from flask import redirect, request, session, url_for

SESSION_KEY = "filters"


def remembered(page, keys, endpoint):
    """A redirect to apply or forget the page's saved filters, or None to render ``request.args`` as they are."""
    saved = dict(session.get(SESSION_KEY) or {})
    if request.args.get("clear"):
        if saved.pop(page, None) is not None:
            session[SESSION_KEY] = saved
        return redirect(url_for(endpoint))
    if any(key in request.args for key in keys):
        chosen = {key: request.args[key] for key in keys if request.args.get(key)}
        if chosen:
            saved[page] = chosen
        else:
            saved.pop(page, None)
        if saved != (session.get(SESSION_KEY) or {}):
            session[SESSION_KEY] = saved
        return None
    if not request.args and saved.get(page):
        return redirect(url_for(endpoint, **saved[page]))
    return None


def has_saved(page):
    return bool((session.get(SESSION_KEY) or {}).get(page))
