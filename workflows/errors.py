"""Error pages and the template helpers every page uses."""
from flask import render_template, request
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from .access import has_role_anywhere
from .labels import JOB_STATES, SUBMISSION_STATES
from .models import Role


def _page(code, title, message):
    if request.accept_mimetypes.best == "application/json" or request.path.endswith(".json"):
        return {"error": title, "message": message}, code
    return render_template("error.html", code=code, title=title, message=message), code


def init_app(app):
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _page(400, _("The form has expired"),
                     _("The page was open too long or came from elsewhere. Go back, reload it and send it again."))

    @app.errorhandler(403)
    def forbidden(exc):
        return _page(403, _("Not allowed"), _("Your roles do not cover this page or this unit."))

    @app.errorhandler(404)
    def not_found(exc):
        return _page(404, _("Not found"), _("There is nothing at this address, or it is not yours to see."))

    @app.errorhandler(410)
    def gone(exc):
        return _page(410, _("Gone"), exc.description)

    @app.template_filter("attribute_label")
    def attribute_label(transition, language):
        return transition.label(language)

    @app.context_processor
    def helpers():
        return {
            "has_admin": lambda: current_user.is_authenticated and has_role_anywhere(current_user, Role.ADMIN),
            "has_queue": lambda: current_user.is_authenticated and any(
                has_role_anywhere(current_user, r) for r in (Role.REVIEWER, Role.CERTIFIER, Role.OFFICE)),
            "job_states": JOB_STATES,
            "submission_states": SUBMISSION_STATES,
            "get_locale": get_locale,
        }
