"""The shape of the code: no import cycles, the core knows no feature, the registries are complete.

The application is cut into feature packages (org, filling, review,
documents, api, demo) on top of a core (config, extensions, jobs, engine …).
Features plug in through registries from their ``init_app``; these tests
keep it so. They read the source with ``ast`` (nothing is imported), lazy
imports inside functions included: a lazy import hides a cycle from Python,
not from the reader.
"""
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ("org", "filling", "review", "volunteers", "documents", "api", "demo")
# The engine and the job runner must work for any feature set.
CORE_THAT_KNOWS_NO_FEATURE = ("workflows.engine", "workflows.jobs", "workflows.worker", "workflows.schedule",
                              "workflows.jobs_cli", "workflows.commands", "workflows.models", "workflows.access")


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules():
    files = [p for pkg in ("forms", "workflows") for p in sorted((ROOT / pkg).rglob("*.py"))
             if "migrations" not in p.parts]
    return {_module_name(p): p for p in files}


def _targets(name, is_package, node):
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = name.split(".") if is_package else name.split(".")[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base)
        module = f"{prefix}.{node.module}" if node.module else prefix
    else:
        module = node.module or ""
    return [module] + [f"{module}.{alias.name}" for alias in node.names]


def import_graph():
    """{module: {imported module: [line, …]}} over the project's own modules."""
    modules = _modules()
    graph = {name: {} for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _targets(name, path.name == "__init__.py", node):
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                # A module importing its own package's __init__ is how Python loads it anyway.
                if target and target != name and not name.startswith(target + "."):
                    graph[name].setdefault(target, []).append(node.lineno)
    return graph


def find_cycles(graph):
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycles({"a": {"b": [1]}, "b": {"c": [1]}, "c": {"a": [1]}, "d": {"a": [1]}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b": [1]}, "b": {}}) == []


def test_no_import_cycles_lazy_imports_included():
    cycles = find_cycles(import_graph())
    assert cycles == [], "import cycles: " + "; ".join(" ↔ ".join(group) for group in cycles)


def _inside(module, prefixes):
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_engine_and_the_job_runner_import_no_feature_package():
    graph = import_graph()
    features = tuple(f"workflows.{f}" for f in FEATURES)
    wrong = [f"{module} imports {target} (line {lines[0]})"
             for module, targets in graph.items() if _inside(module, CORE_THAT_KNOWS_NO_FEATURE)
             for target, lines in targets.items() if _inside(target, features)]
    assert wrong == []


def test_the_form_layer_knows_nothing_of_the_application():
    graph = import_graph()
    wrong = [f"{module} imports {target}" for module, targets in graph.items() if module.startswith("forms")
             for target in targets if target.startswith("workflows")]
    assert wrong == []
    for path in (ROOT / "forms").rglob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+flask", path.read_text(encoding="utf-8"), re.M), path


def test_the_checks_see_a_planted_engine_import(tmp_path, monkeypatch):
    """The rule above can fail: an engine module importing a feature, lazily, is caught."""
    graph = import_graph()
    graph["workflows.engine.perform"] = dict(graph["workflows.engine.perform"], **{"workflows.filling.submissions": [1]})
    features = tuple(f"workflows.{f}" for f in FEATURES)
    assert any(_inside(t, features) for t in graph["workflows.engine.perform"])
    assert find_cycles(graph), "filling imports the engine, so the planted import closes a cycle"


def _documented(section):
    """Names listed in the README's registry table, row ``section``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = re.search(rf"^\| {re.escape(section)} \|(.+)\|$", readme, re.M)
    assert row, f"README has no registry row for {section!r}"
    return sorted(re.findall(r"`([a-z_]+)`", row.group(1).split("|")[0]))


def test_the_registries_hold_exactly_the_documented_effects_job_kinds_and_periodic_jobs(tmp_path):
    # A fresh interpreter: the test process has test-only job kinds registered.
    script = (
        "import json, os\n"
        "from workflows import create_app\n"
        "from workflows.engine import effects\n"
        "from workflows import jobs, schedule\n"
        f"create_app({{'SQLALCHEMY_DATABASE_URI': 'sqlite:///{tmp_path}/x.sqlite3', 'TESTING': True}})\n"
        "print(json.dumps({'effects': effects.names(), 'jobs': jobs.kind_names(),"
        " 'periodic': sorted(schedule.periodic_kinds())}))\n"
    )
    env = {"INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    registered = json.loads(out.stdout.strip().splitlines()[-1])
    assert registered["effects"] == _documented("effects")
    assert registered["jobs"] == _documented("job kinds")
    assert registered["periodic"] == _documented("periodic jobs")
