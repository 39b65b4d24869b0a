"""Loading a workflow definition: states, transitions, roles, effects and `when` checked at load.

``load_workflow(source, form_spec)`` returns a WorkflowSpec or raises
forms.definition.DefinitionError with every problem at its key and line.
"""
from collections import deque
from dataclasses import dataclass, field as dc_field
from functools import lru_cache

from pydantic import ValidationError

from forms.answers import from_json
from forms.definition import (VALUE_TYPES, DefinitionError, Problem, format_path, line_of, parse_yaml,
                              problem_from_pydantic, sha256_of)
from forms.expressions import ExpressionError, compile_expression
from forms.translatable import _l

from ..labels import ACTIONS
from . import effects
from .schema import ACTORS, WorkflowSchema


@dataclass(eq=False)
class TransitionSpec:
    model: object
    index: int
    when: object = None

    @property
    def action(self):
        return self.model.action

    def label(self, language):
        if self.model.label:
            return self.model.label.get(language)
        return str(ACTIONS[self.action]) if self.action in ACTIONS else self.action


@dataclass(eq=False)
class WorkflowSpec:
    schema: WorkflowSchema
    source: str
    sha256: str
    transitions: list = dc_field(default_factory=list)

    @property
    def key(self):
        return self.schema.key

    @property
    def version(self):
        return self.schema.version

    @property
    def initial(self):
        return next(iter(self.schema.states))

    def state(self, name):
        return self.schema.states.get(name)

    def available(self, state):
        return [t for t in self.transitions if state in t.model.from_]

    def find(self, state, action):
        return next((t for t in self.transitions if state in t.model.from_ and t.action == action), None)

    def acting_states(self, role):
        """States in which ``role`` has something to do (by hand: internal transitions are not)."""
        return sorted({s for t in self.transitions if t.model.by == role and not t.model.internal
                       for s in t.model.from_})

    def when_holds(self, transition, form_spec, answers, today=None):
        if transition.when is None:
            return True
        return transition.when.evaluate(from_json(form_spec, answers), today=today) is True


@lru_cache(maxsize=128)
def load_workflow(source, form_spec):
    data, lines = parse_yaml(source)
    try:
        schema = WorkflowSchema.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError([problem_from_pydantic(err, lines) for err in exc.errors()]) from None
    problems = []

    def problem(loc, message):
        problems.append(Problem(format_path(loc), message, line_of(lines, loc)))

    if form_spec is None:
        problem(("form",), _l("no published form '%(form)s'", form=schema.form))
    elif form_spec.key != schema.form:
        problem(("form",), _l("the linked form is '%(linked)s', not '%(form)s'",
                              linked=form_spec.key, form=schema.form))
    names = {}
    columns = {}
    if form_spec is not None:
        names = {f.name: (f.value_type if f.type == "calculate" else VALUE_TYPES.get(f.type, "any"))
                 for f in form_spec.fields if f.type != "note"}
        columns = {f.name: {c.name: VALUE_TYPES.get(c.type, "any") for c in f.columns if c.type != "note"}
                   for f in form_spec.fields if f.type == "repeat"}
    states = schema.states
    seen = {}
    specs = []
    for index, transition in enumerate(schema.transitions):
        loc = ("transitions", index)
        for position, name in enumerate(transition.from_):
            if name not in states:
                problem(loc + ("from", position), _l("unknown state '%(name)s'", name=name))
            elif states[name].final:
                problem(loc + ("from", position), _l("'%(name)s' is a final state: nothing leaves it", name=name))
            key = (transition.action, name)
            if key in seen:
                problem(loc + ("action",), _l("action '%(action)s' from '%(name)s' is defined twice "
                                              "(also transitions[%(other)d])",
                                              action=transition.action, name=name, other=seen[key]))
            seen[key] = index
        if transition.to not in states:
            problem(loc + ("to",), _l("unknown state '%(name)s'", name=transition.to))
        if transition.by not in ACTORS:
            problem(loc + ("by",), _l("unknown role '%(role)s' (roles: %(roles)s)", role=transition.by,
                                          roles=", ".join(ACTORS)))
        if transition.approval and transition.approval.mode != "any" and transition.by == "owner":
            problem(loc + ("approval",), _l("the owner is one person: an approval block needs a role"))
        if transition.internal and (transition.approval and transition.approval.mode != "any"):
            problem(loc + ("internal",), _l("an internal transition is done by its procedure: it takes no votes"))
        if transition.internal and transition.by == "owner":
            problem(loc + ("internal",), _l("an internal transition needs a role, not the owner"))
        for position, name in enumerate(transition.effects):
            if not effects.is_registered(name):
                problem(loc + ("effects", position), _l("unknown effect '%(name)s' (known: %(known)s)", name=name,
                                                         known=", ".join(effects.names())))
        if transition.approval and transition.approval.mode != "any":
            failure = transition.approval.on_fail
            for position, name in enumerate(transition.from_):
                if not any(t.action == failure and name in t.from_ for t in schema.transitions):
                    problem(loc + ("approval", "on_fail"),
                            _l("a vote can fail: no transition '%(action)s' from '%(name)s' "
                               "(add one, or name the failure transition with on_fail)", action=failure, name=name))
        spec = TransitionSpec(model=transition, index=index)
        if transition.when is not None and form_spec is not None:
            try:
                spec.when = compile_expression(transition.when, names, columns=columns, expect="boolean")
            except ExpressionError as exc:
                problem(loc + ("when",), exc.message)
            else:
                if not spec.when.names:
                    problem(loc + ("when",), _l("names no field of the form"))
        specs.append(spec)
    initial = next(iter(states))
    reached, todo = {initial}, deque([initial])
    while todo:
        current = todo.popleft()
        for transition in schema.transitions:
            if current in transition.from_ and transition.to in states and transition.to not in reached:
                reached.add(transition.to)
                todo.append(transition.to)
    for name in states:
        if name not in reached:
            problem(("states", name), _l("unreachable state '%(name)s': no transition leads to it from '%(initial)s'",
                                         name=name, initial=initial))
    if problems:
        raise DefinitionError(problems)
    return WorkflowSpec(schema=schema, source=source, sha256=sha256_of(source), transitions=specs)
