"""Volunteers: the registry (登记), certification of service hours (认证), corrections, star levels."""


def init_app(app):
    # registry and certification register the effects `register_volunteer`
    # and `certify_service_hours` as they are imported.
    from . import certification, registry  # noqa: F401
