"""Hardening (issue 7, finding 15): the CLIs refuse bad files one line a problem, never a traceback."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
FORMS = ROOT / "workflows" / "definitions" / "forms"
WORKFLOWS = ROOT / "workflows" / "definitions" / "workflows"
NO_TABLES = "The database has no tables yet: run `flask db upgrade` first."


@pytest.fixture
def flask_cli(tmp_path):
    """The flask CLI on a fresh SQLite file nobody ran `flask db upgrade` on."""
    env = dict(os.environ)
    for name in ("REDIS_URL", "SECRET_KEY", "UPLOAD_DIR", "RESULT_DIR", "DATABASE_URL"):
        env.pop(name, None)
    env.update({"INSTANCE_PATH": str(tmp_path / "instance"),
                "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
                "PYTHONPATH": str(ROOT)})

    def run(*args):
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *map(str, args)],
                                cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=120)
        result.output = result.stdout + result.stderr
        return result
    return run


def _problems(result):
    assert "Traceback" not in result.output, result.output[-3000:]
    assert result.returncode == 1, result.output[-3000:]
    return [line for line in result.stdout.splitlines() if line]


CHECKS = [("forms", "check"), ("workflows", "check")]


@pytest.mark.parametrize("command", CHECKS, ids=" ".join)
def test_binary_data_is_refused_as_not_utf8(flask_cli, tmp_path, command):
    path = tmp_path / "binary.yaml"
    path.write_bytes(bytes(range(256)) * 8)
    lines = _problems(flask_cli(*command, path))
    assert len(lines) == 1 and lines[0].startswith(f"{path}: ") and "not UTF-8" in lines[0]


@pytest.mark.parametrize("command", CHECKS, ids=" ".join)
@pytest.mark.parametrize("nesting", ["[" * 10_000 + "]" * 10_000, "{a: " * 10_000 + "1" + "}" * 10_000,
                                     "- " * 10_000 + "x\n"], ids=["flow-sequence", "flow-mapping", "block"])
def test_deep_nesting_is_refused_without_a_recursion_error(flask_cli, tmp_path, command, nesting):
    path = tmp_path / "deep.yaml"
    path.write_text(nesting, encoding="utf-8")
    lines = _problems(flask_cli(*command, path))
    assert len(lines) == 1 and "nested too deeply" in lines[0], lines


@pytest.mark.parametrize("command", CHECKS + [("forms", "load"), ("workflows", "load")], ids=" ".join)
def test_a_50_mb_file_is_refused_by_its_size(flask_cli, tmp_path, command):
    path = tmp_path / "huge.yaml"
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("key: x\nfields:\n")
        line = "  - {name: field, type: text, label: " + "长" * 200 + "}\n"
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(line * 1000)
    lines = _problems(flask_cli(*command, path))
    assert lines == [f"{path}: definition too large (more than 256 KB)"]


def test_an_overlong_name_is_refused_for_its_length(flask_cli, tmp_path):
    path = tmp_path / "long.yaml"
    name = "a" * 100_000
    path.write_text(f"key: {name}\nversion: 1\ntitle: x\nfields:\n  - {{name: {name}, type: text}}\n",
                    encoding="utf-8")
    lines = _problems(flask_cli("forms", "check", path))
    assert lines == [f"{path}: key: too long (100000 characters, at most 63)",
                     f"{path}: fields[0].name: too long (100000 characters, at most 63)"]


def test_an_overlong_workflow_key_is_refused_for_its_length(flask_cli, tmp_path):
    source = (WORKFLOWS / "activity_review.yaml").read_text(encoding="utf-8")
    path = tmp_path / "long.yaml"
    path.write_text(source.replace("key: activity_review", "key: " + "w" * 100_000), encoding="utf-8")
    lines = _problems(flask_cli("workflows", "check", path))
    assert lines == [f"{path}: key: too long (100000 characters, at most 63)"]


def test_workflows_check_uses_the_builtin_forms_without_a_database(flask_cli):
    paths = sorted(WORKFLOWS.glob("*.yaml"))
    result = flask_cli("workflows", "check", *paths)
    assert result.returncode == 0, result.output
    assert "Traceback" not in result.output
    # One file per published version: exemplar_review_v2.yaml holds exemplar_review v2.
    versions = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths]
    assert result.stdout.splitlines() == [f"ok {v['key']} v{v['version']}" for v in versions]
    assert "ok exemplar_review v2" in result.stdout.splitlines()


def test_workflows_check_without_a_database_still_finds_a_bad_when(flask_cli, tmp_path):
    source = (WORKFLOWS / "activity_review.yaml").read_text(encoding="utf-8")
    path = tmp_path / "unknown_form.yaml"
    path.write_text(source.replace("form: activity_report", "form: no_such_form"), encoding="utf-8")
    lines = _problems(flask_cli("workflows", "check", path))
    assert len(lines) == 1 and "no_such_form" in lines[0], lines


@pytest.mark.parametrize("command", [
    ("workflows", "load", WORKFLOWS / "activity_review.yaml"),
    ("forms", "load", FORMS / "activity_report.yaml"),
    ("workflows", "remind"),
    ("workflows", "migrate", "activity_review", "--to", "2"),
    ("jobs", "reap"),
    ("seed-demo",),
], ids=lambda c: " ".join(map(str, c[:2])))
def test_a_database_without_tables_is_one_line(flask_cli, command):
    result = flask_cli(*command)
    assert "Traceback" not in result.output, result.output[-3000:]
    assert result.returncode == 1
    assert result.output.strip().splitlines() == [NO_TABLES]


def test_the_redis_line_is_not_logged_by_every_command(flask_cli):
    result = flask_cli("forms", "check", FORMS / "activity_report.yaml")
    assert result.returncode == 0
    assert "REDIS_URL" not in result.output
