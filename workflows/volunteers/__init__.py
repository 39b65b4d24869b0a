"""Volunteers: the registry (登记), certification of service hours (认证), corrections, star levels, pages."""


def init_app(app):
    # registry and certification register the effects `register_volunteer`
    # and `certify_service_hours` as they are imported.
    from . import certificate_batches, certificates, certification, pages, registry, roster_lookup  # noqa: F401
    pages.init_pages(app)
    certificates.init_app(app)  # the certificate job kind, its request route and /verify/CODE
    roster_lookup.init_app(app)  # the fill page marks roster rows registered with the unit
