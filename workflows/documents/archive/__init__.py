"""The archive (归档): archived activity reports for the offices to browse, and the records-handover package.

``selection`` decides which archived reports a viewer and filters select,
``summary`` draws one report's PDF, ``package`` is the ZIP job
(``archive_package``) and ``pages`` the browse page and the package request.
"""
