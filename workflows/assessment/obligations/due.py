"""What a unit owes this month, for its home page: each obligation of the rules in force, how far it is, by when."""
from ..campaigns.plans import open_in_month
from ..periods import Month
from . import rules as rules_module
from .evaluation import evaluate


def due_this_month(unit, today):
    """{"month", "due_on", "campaigns", "items": [(label, count, needed, status, deadline)]} for ``unit``."""
    month = Month.of(today)
    rules = rules_module.current()
    cells = evaluate(month, unit_ids=[unit.id])
    items = []
    for obligation in rules.obligations:
        cell = cells.get((unit.id, obligation.key))
        if cell is not None:
            items.append((obligation.label, cell.count, cell.needed, cell.status, cell.deadline))
    deadlines = [item[4] for item in items]
    return {"month": month, "due_on": min(deadlines) if deadlines else None,
            "campaigns": open_in_month(month, unit.kind), "items": items}
