"""``flask forms check`` and ``flask forms load``, run as an operator would."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORMS = ROOT / "workflows" / "definitions" / "forms"

HOURZ = """key: bad_form
version: 1
title: 坏表单
fields:
  - name: hours
    type: decimal
    constraints:
      - {if: "hourz > 0", message: 时长必须大于零}
"""
TWO_PROBLEMS = """key: Bad-Key
version: 1
title: x
fields:
  - {name: a, type: colour}
"""


@pytest.fixture
def flask_cli(tmp_path):
    env = dict(os.environ)
    for name in ("REDIS_URL", "SECRET_KEY", "UPLOAD_DIR", "RESULT_DIR"):
        env.pop(name, None)
    env.update({"INSTANCE_PATH": str(tmp_path / "instance"),
                "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                "PYTHONPATH": str(ROOT)})

    def run(*args):
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *map(str, args)],
                              cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=120)
    return run


def test_check_a_good_file(flask_cli):
    result = flask_cli("forms", "check", FORMS / "activity_report.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok activity_report v1\n"


def test_check_every_builtin_definition(flask_cli):
    paths = sorted(FORMS.glob("*.yaml"))
    result = flask_cli("forms", "check", *paths)
    assert result.returncode == 0, result.stderr
    # One file per version: key.yaml is v1, key_vN.yaml vN.
    expected = [f"ok {key} v{version or 1}" for key, _, version in (p.stem.partition("_v") for p in paths)]
    assert result.stdout.splitlines() == expected


def test_check_bad_files_prints_one_problem_a_line(flask_cli, tmp_path):
    hourz = tmp_path / "hourz.yaml"
    hourz.write_text(HOURZ, encoding="utf-8")
    two = tmp_path / "two.yaml"
    two.write_text(TWO_PROBLEMS, encoding="utf-8")
    good = FORMS / "activity_report.yaml"
    result = flask_cli("forms", "check", hourz, good, two)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{hourz}: fields[0].constraints[0].if: unknown name 'hourz'",
        "ok activity_report v1",
        f"{two}: key: must be a letter followed by letters, digits or '_'",
        f"{two}: fields[0].type: unknown field type 'colour'",
    ]


def test_check_unreadable_files(flask_cli, tmp_path):
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    result = flask_cli("forms", "check", binary)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{binary}: not UTF-8 text"]
    assert flask_cli("forms", "check", tmp_path / "missing.yaml").returncode != 0


def test_load_creates_and_publishes_a_version(flask_cli, tmp_path):
    upgrade = flask_cli("db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    first = flask_cli("forms", "load", FORMS / "activity_report.yaml")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("published activity_report v1 (")
    again = flask_cli("forms", "load", FORMS / "activity_report.yaml")
    assert again.returncode == 1
    assert "version: version 1 of activity_report already exists" in again.stdout \
        or "activity_report 的版本 1 已存在" in again.stdout
    v2 = tmp_path / "v2.yaml"
    v2.write_text((FORMS / "activity_report.yaml").read_text(encoding="utf-8")
                  .replace("version: 1", "version: 2", 1)
                  .replace("  - {name: recorder, type: text, required: true, max_length: 50, "
                           "label: {zh: 记录人, en: Recorder}}\n", ""), encoding="utf-8")
    second = flask_cli("forms", "load", v2)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == [
        "field_removed recorder: Old submissions still show “Recorder” with their own version; "
        "the new version no longer asks for it.",
        f"published activity_report v2 ({second.stdout.split('(')[-1].split(')')[0]})",
    ]
