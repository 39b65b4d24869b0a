"""The JSON API under /api/v1: forms, drafts, submitting, the queue, workflow actions and volunteers.

Authentication is a personal API token (``Authorization: Bearer wm_…``,
issued by an administrator at /admin/tokens/; only its SHA-256 is stored)
or the signed-in session of the web pages. The access rules are the pages'
own: ``can_view`` / ``can_edit`` / ``filler_units`` / ``open_to`` and the
checks inside ``engine.perform``.

CSRF: the blueprint is exempt from the form-token check, because a bearer
token is never sent by a browser on its own. A request that rides on the
session cookie and changes something (POST, PATCH, PUT, DELETE) must carry
``X-Requested-With: fetch`` or a valid ``X-CSRFToken``: a cross-site HTML
form can set neither, and a cross-site script cannot set a custom header
without a CORS preflight that this app never grants.

Every answer is JSON. Errors are ``{"error": name, "message": text in the
caller's language, …details}`` with 400, 401, 403, 404, 405, 409 or 422.
File fields take references to files already uploaded through the web form
(``{"id": token}`` or the token itself); the API does not take uploads.
"""
from .blueprint import bp
from .tokens import hash_token, issue_token, revoke_token

__all__ = ["bp", "hash_token", "init_app", "issue_token", "revoke_token"]


def init_app(app):
    # The resource modules attach their routes and handlers to ``bp`` as they are imported, which has to
    # happen before the blueprint is registered: import them here, first.
    # In the order the single module had them, so the URL map is built as before.
    from . import (errors, openapi, forms, submissions, queue, token_admin, volunteers, scores, campaigns,  # noqa: F401
                   ballots, obligations)
    app.register_blueprint(bp)
    app.register_blueprint(token_admin.bp)
