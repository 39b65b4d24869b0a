"""The API's errors as JSON, OPTIONS, and the catch-all that answers unknown paths and methods."""
from flask import current_app, jsonify, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from ..engine.perform import ActionError, NotFound
from ..extensions import db
from .blueprint import bp


class Unauthorized(ActionError):
    status = 401


class BadRequest(ActionError):
    status = 400


class MethodNotAllowed(ActionError):
    status = 405


@bp.errorhandler(ActionError)
def action_error(exc):
    db.session.rollback()
    response = jsonify(exc.body())
    response.status_code = exc.status
    if exc.status == 401:
        invalid = request.headers.get("Authorization") is not None
        response.headers["WWW-Authenticate"] = 'Bearer realm="wenming"' + (', error="invalid_token"' if invalid
                                                                           else "")
    if isinstance(exc, MethodNotAllowed):
        response.headers["Allow"] = ", ".join(exc.details.get("allowed", []))
    return response


@bp.errorhandler(HTTPException)
def http_error(exc):
    names = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
             409: "Conflict", 413: "TooLarge", 415: "UnsupportedMediaType", 422: "Invalid"}
    messages = {400: _("The request could not be read."), 404: _("There is nothing at this address."),
                413: _("The request is too large.")}
    response = jsonify({"error": names.get(exc.code, type(exc).__name__),
                        "message": messages.get(exc.code, exc.description or exc.name)})
    response.status_code = exc.code or 500
    return response


def _methods_here():
    """The methods the current path has, not counting the catch-all below."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _args = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != "api.not_found":
            allowed.append(method)
    return allowed


@bp.before_request
def options():
    """OPTIONS names the path's own methods; Flask's automatic answer adds the catch-all's."""
    if request.method != "OPTIONS":
        return None
    allowed = _methods_here()
    if not allowed:
        raise NotFound(_("There is nothing at this address."))
    response = current_app.response_class(status=200)
    response.headers["Allow"] = ", ".join(allowed + (["HEAD"] if "GET" in allowed else []) + ["OPTIONS"])
    return response


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(rest):
    """Anything else under /api/v1: 405 when the path exists with other methods, else 404 — in JSON."""
    allowed = _methods_here()
    if allowed:
        raise MethodNotAllowed(_("This address does not take %(method)s.", method=request.method),
                               allowed=allowed)
    raise NotFound(_("There is nothing at this address."))
