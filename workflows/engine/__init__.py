"""The workflow engine: definitions as tables of states and transitions, and performing them."""
from ..commands import add_commands


def init_app(app):
    from .cli import audit_cli
    add_commands(app, audit_cli)
