"""The demo city and the notice's scale: ``flask seed-demo``, ``flask seed-scale``."""
from ..commands import add_commands


def init_app(app):
    from .cli import seed_demo_command, seed_scale_command
    add_commands(app, seed_demo_command, seed_scale_command)
