"""Volunteers: the registry (登记), certification of service hours (认证), corrections, star levels, pages."""


def init_app(app):
    # registry and certification register the effects `register_volunteer`
    # and `certify_service_hours` as they are imported.
    from . import (certificate_batches, certificates, certification, correction_pages, pages, registry,  # noqa: F401
                   roster_lookup)
    pages.init_pages(app)
    app.register_blueprint(correction_pages.bp)  # ask for, amend, refuse and revoke on the volunteer's page
    certificates.init_app(app)  # the certificate job kind, its request route and /verify/CODE
    roster_lookup.init_app(app)  # the fill page marks roster rows registered with the unit
