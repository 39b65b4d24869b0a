"""Official documents: the unit directory (PDF and XLSX), the archive's handover package, built by jobs, and
circulars (通报)."""


def init_app(app):
    from . import circulars, directory  # directory registers the job kind `unit_directory`
    from .archive import package, pages  # noqa: F401  (package registers the job kind `archive_package`)
    app.register_blueprint(directory.bp)
    app.register_blueprint(pages.bp)
    circulars.init_app(app)
