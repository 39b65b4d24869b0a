"""Official documents: the unit directory (PDF and XLSX) and the archive's handover package, built by jobs."""


def init_app(app):
    from . import directory  # registers the job kind `unit_directory`
    from .archive import package, pages  # noqa: F401  (package registers the job kind `archive_package`)
    app.register_blueprint(directory.bp)
    app.register_blueprint(pages.bp)
