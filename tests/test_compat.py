"""The compatibility check between two versions of a form definition."""
from pathlib import Path

from forms.compat import BREAKING, compare
from forms.definition import load_definition

ROOT = Path(__file__).resolve().parent.parent

BASE = """
key: event
version: 1
title: 活动
choices:
  themes: [{value: lantern, label: 元宵节}, {value: qingming, label: {zh: 清明节, en: Qingming}}, {value: other, label: 其他}]
fields:
  - {name: theme, type: choice, choices: themes, label: {zh: 节点主题, en: Theme}}
  - {name: place, type: text, label: {zh: 活动地点, en: Place}}
  - {name: hours, type: decimal, label: 时长}
  - {name: leader, type: text, label: 负责人}
  - name: roster
    type: repeat
    label: 参与志愿者
    fields:
      - {name: name, type: text, label: 姓名}
      - {name: phone, type: phone, label: 电话}
"""


def spec(text, version=None):
    if version is not None:
        text = text.replace("version: 1", f"version: {version}")
    return load_definition(text)


def changed(old_line, new_line, text=BASE):
    assert old_line in text, old_line
    return spec(text.replace(old_line, new_line), 2)


def kinds(findings):
    return sorted((f.kind, f.path) for f in findings)


def test_same_definition_has_no_findings():
    assert compare(spec(BASE), spec(BASE, 2)) == []


def test_field_removed_says_old_submissions_keep_it():
    new = changed("  - {name: place, type: text, label: {zh: 活动地点, en: Place}}\n", "")
    findings = compare(spec(BASE), new)
    assert kinds(findings) == [("field_removed", "place")]
    finding = findings[0]
    assert finding.breaking
    assert finding.message_zh == "旧提交中的“活动地点”仍按旧版本显示；新版本不再收集此项。"
    assert "Place" in finding.message_en and "no longer asks" in finding.message_en
    assert finding.message("en") == finding.message_en and finding.message("zh_CN") == finding.message_zh


def test_removed_repeat_is_one_finding_and_removed_column_is_its_own():
    without_roster = BASE.split("  - name: roster")[0]
    assert kinds(compare(spec(BASE), spec(without_roster, 2))) == [("field_removed", "roster")]
    new = changed("      - {name: phone, type: phone, label: 电话}\n", "")
    assert kinds(compare(spec(BASE), new)) == [("field_removed", "roster[].phone")]


def test_type_changed():
    new = changed("{name: hours, type: decimal, label: 时长}", "{name: hours, type: text, label: 时长}")
    findings = compare(spec(BASE), new)
    assert kinds(findings) == [("type_changed", "hours")]
    assert "decimal" in findings[0].message_zh and "text" in findings[0].message_zh
    assert findings[0].breaking


def test_moved_into_repeat():
    text = BASE.replace("  - {name: leader, type: text, label: 负责人}\n", "")
    text = text.replace("      - {name: phone, type: phone, label: 电话}\n",
                        "      - {name: phone, type: phone, label: 电话}\n      - {name: leader, type: text, label: 负责人}\n")
    findings = compare(spec(BASE), spec(text, 2))
    assert kinds(findings) == [("moved_into_repeat", "roster[].leader")]
    assert "参与志愿者" in findings[0].message_zh and "旧提交" in findings[0].message_zh


def test_moved_out_of_repeat_with_a_type_change_reports_both():
    text = BASE.replace("      - {name: phone, type: phone, label: 电话}\n", "")
    text = text.replace("  - {name: leader, type: text, label: 负责人}\n",
                        "  - {name: leader, type: text, label: 负责人}\n  - {name: phone, type: text, label: 电话}\n")
    findings = compare(spec(BASE), spec(text, 2))
    assert kinds(findings) == [("moved_out_of_repeat", "phone"), ("type_changed", "phone")]


def test_choice_removed_only_when_old_answers_use_it():
    new = changed("{value: qingming, label: {zh: 清明节, en: Qingming}}, ", "")
    assert kinds(compare(spec(BASE), new)) == [("choice_removed", "theme")]          # None: every removal
    assert compare(spec(BASE), new, {"theme": {"lantern"}}) == []                      # nobody chose it
    assert compare(spec(BASE), new, {}) == []
    findings = compare(spec(BASE), new, {"theme": {"qingming", "lantern"}})
    assert kinds(findings) == [("choice_removed", "theme")]
    assert "清明节" in findings[0].message_zh and "qingming" in findings[0].message_zh
    assert "Qingming" in findings[0].message_en and findings[0].breaking


def test_choice_removed_from_a_named_list_in_a_repeat_column():
    text = BASE.replace("      - {name: phone, type: phone, label: 电话}\n",
                        "      - {name: phone, type: phone, label: 电话}\n"
                        "      - {name: role, type: choice, choices: [{value: a, label: 甲}, {value: b, label: 乙}]}\n")
    new = text.replace("{value: a, label: 甲}, ", "")
    findings = compare(spec(text), spec(new, 2), {"roster[].role": {"a"}})
    assert kinds(findings) == [("choice_removed", "roster[].role")]


def test_field_renamed_keeps_old_answers_readable():
    new = changed("{name: place, type: text, label: {zh: 活动地点, en: Place}}",
                  "{name: venue, renamed_from: place, type: text, label: {zh: 活动地点, en: Place}}")
    findings = compare(spec(BASE), new)
    assert kinds(findings) == [("field_renamed", "venue")]
    assert not findings[0].breaking
    assert "place" in findings[0].message_zh and "venue" in findings[0].message_zh


def test_renamed_from_a_name_that_never_existed_is_a_new_field():
    new = changed("{name: place, type: text, label: {zh: 活动地点, en: Place}}",
                  "{name: place, type: text, label: {zh: 活动地点, en: Place}}\n"
                  "  - {name: venue, renamed_from: spot, type: text, label: 场地}")
    assert kinds(compare(spec(BASE), new)) == [("field_added", "venue")]


def test_renamed_column_with_a_type_change():
    new = changed("{name: phone, type: phone, label: 电话}", "{name: mobile, renamed_from: phone, type: text}")
    assert kinds(compare(spec(BASE), new)) == [("field_renamed", "roster[].mobile"),
                                                ("type_changed", "roster[].mobile")]


def test_required_added():
    new = changed("{name: leader, type: text, label: 负责人}", "{name: leader, type: text, required: true, label: 负责人}")
    findings = compare(spec(BASE), new)
    assert kinds(findings) == [("required_added", "leader")]
    assert "旧提交中此项可能为空" in findings[0].message_zh and not findings[0].breaking
    # A condition counts as newly required too; dropping `required` is no finding.
    conditional = changed("{name: leader, type: text, label: 负责人}",
                          "{name: leader, type: text, required: \"hours > 2\", label: 负责人}")
    assert kinds(compare(spec(BASE), conditional)) == [("required_added", "leader")]
    assert compare(new, spec(BASE, 3)) == []


def test_field_added_and_added_repeat_is_one_finding():
    new = changed("  - name: roster\n",
                  "  - {name: note_text, type: textarea, label: 备注}\n"
                  "  - name: helpers\n    type: repeat\n    fields:\n      - {name: who, type: text}\n"
                  "  - name: roster\n")
    findings = compare(spec(BASE), new)
    assert kinds(findings) == [("field_added", "helpers"), ("field_added", "note_text")]
    assert all(not f.breaking for f in findings)
    assert "旧提交中没有此项" in findings[0].message_zh


def test_every_kind_is_known_and_breaking_ones_are_marked():
    assert BREAKING == {"field_removed", "type_changed", "moved_into_repeat", "moved_out_of_repeat", "choice_removed"}


def test_builtin_definitions_compare_clean_with_themselves():
    for path in sorted((ROOT / "workflows" / "definitions" / "forms").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert compare(load_definition(text), load_definition(text + "\n")) == [], path.name
