"""The API's blueprint, alone so that every resource module can attach to it without importing the package."""
from flask import Blueprint

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
