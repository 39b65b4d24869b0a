"""Official documents: the unit directory (PDF and XLSX, built by a job) and circulars (通报)."""


def init_app(app):
    from . import directory  # registers the job kind `unit_directory`
    app.register_blueprint(directory.bp)
    from . import circulars
    circulars.init_app(app)
