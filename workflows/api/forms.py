"""GET /forms and /forms/<key>: the published forms a person may fill, and one form's definition."""
from flask import jsonify
from flask_babel import gettext as _

from ..engine.perform import NotFound
from ..filling.submissions import filler_units, open_to, published_forms
from .blueprint import bp
from .representations import _texts, _unit
from .requests import _user


@bp.get("/forms")
def forms():
    units = filler_units(_user())
    out = []
    for version in published_forms() if units else []:
        open_units = [u for u in units if open_to(version, u)]
        if open_units:
            out.append({"key": version.key, "version": version.version, "sha256": version.sha256,
                        "title": _texts(version.spec.schema.title), "units": [_unit(u) for u in open_units]})
    return jsonify({"forms": out})


@bp.get("/forms/<key>")
def form(key):
    version = next((v for v in published_forms() if v.key == key), None)
    if version is None:
        raise NotFound(_("No published form “%(key)s”.", key=key))
    return jsonify({"key": version.key, "version": version.version, "sha256": version.sha256,
                    "title": _texts(version.spec.schema.title), "source": version.source})
