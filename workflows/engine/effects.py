"""Effects: Python functions a transition names in YAML; YAML itself never holds code.

An effect runs inside the transition's transaction. One that starts slow
work calls ``jobs.enqueue``, which hands the job over only after the commit.
This is a registry: feature packages register their effects from their
``init_app`` (by importing the module that holds them); the engine imports
none of them, so a definition naming an effect no package registered is
refused at load.
"""
from dataclasses import dataclass, field

_effects = {}


@dataclass(frozen=True)
class EffectContext:
    submission: object
    transition: object
    actor: object
    from_state: str
    workflow: object
    form_spec: object
    # What the caller of ``perform(…, params=…)`` handed over for the effects;
    # the engine neither reads nor checks it (each effect checks its own part).
    params: dict = field(default_factory=dict)


def effect(name):
    def register(func):
        _effects[name] = func
        return func
    return register


def is_registered(name):
    return name in _effects


def names():
    return sorted(_effects)


def run(name, context):
    _effects[name](context)
