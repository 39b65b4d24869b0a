"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run``."""
import sys

from workflows import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    print(f"configuration error: {exc}", file=sys.stderr)
    sys.exit(2)
