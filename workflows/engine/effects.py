"""Effects: Python functions a transition names in YAML; YAML itself never holds code.

An effect runs inside the transition's transaction. One that starts slow
work calls ``jobs.enqueue``, which hands the job over only after the commit.
"""
from dataclasses import dataclass

_effects = {}


@dataclass(frozen=True)
class EffectContext:
    submission: object
    transition: object
    actor: object
    from_state: str
    workflow: object
    form_spec: object


def effect(name):
    def register(func):
        _effects[name] = func
        return func
    return register


def is_registered(name):
    _load_builtin()
    return name in _effects


def names():
    _load_builtin()
    return sorted(_effects)


def run(name, context):
    _load_builtin()
    _effects[name](context)


def _load_builtin():
    # The built-in effects live with what they touch; importing registers them.
    from .. import archive, notifications  # noqa: F401
