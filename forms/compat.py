"""What changes between two versions of a form mean for the submissions made with the old one.

``compare(old, new, used_choices)`` lists Findings in both languages. A
submission always keeps and is shown with its own version, so nothing here
changes stored answers; the findings say what an old submission will look
like next to new ones (in lists, exports and statistics that span versions).

Fields are matched by name within their container (the form, or a repeat);
a new field with ``renamed_from: old_name`` takes over the old field of that
name. Paths are those of FieldSpec: ``place``, ``roster[].hours``.
"""
from dataclasses import dataclass

KINDS = ("field_removed", "type_changed", "moved_into_repeat", "moved_out_of_repeat", "choice_removed",
         "field_renamed", "required_added", "field_added")
# Kinds after which old answers cannot be read or compared as new ones.
BREAKING = frozenset({"field_removed", "type_changed", "moved_into_repeat", "moved_out_of_repeat",
                      "choice_removed"})
CHOICE_TYPES = ("choice", "multi_choice")


@dataclass(frozen=True)
class Finding:
    kind: str
    path: str
    message_zh: str
    message_en: str

    @property
    def breaking(self):
        return self.kind in BREAKING

    def message(self, language=None):
        return self.message_en if language and str(language).startswith("en") else self.message_zh


def _label(spec, language):
    return spec.model.title(language)


def _names(spec):
    return _label(spec, "zh"), _label(spec, "en")


def _required_rank(model):
    """False < a condition < always."""
    if model.required is True:
        return 2
    return 1 if isinstance(model.required, str) and model.required.strip() else 0


class _Matcher:
    def __init__(self, old, new, used_choices):
        self.old = old
        self.new = new
        self.used = used_choices
        self.findings = []

    def add(self, kind, path, zh, en):
        self.findings.append(Finding(kind, path, zh, en))

    def run(self):
        old_top = {f.name: f for f in self.old.fields}
        old_columns = {}  # column name → [(repeat spec, column spec)] of the old version
        for repeat in self.old.fields:
            for column in repeat.columns:
                old_columns.setdefault(column.name, []).append((repeat, column))
        new_top_names = {f.name for f in self.new.fields}
        taken = set()  # old paths matched to a new field
        pairs = []  # (old spec, new spec, renamed)
        moves = []  # (kind, old spec, new spec, old repeat, new repeat)

        # 1. Same container: by name, then by renamed_from.
        repeat_pairs = {}
        for new_field in self.new.fields:
            old_field, renamed = self._counterpart(new_field, old_top, new_top_names, taken)
            if old_field is not None:
                taken.add(old_field.path)
                pairs.append((old_field, new_field, renamed))
                if old_field.type == "repeat" and new_field.type == "repeat":
                    repeat_pairs[new_field.name] = old_field
        for new_field in self.new.fields:
            old_repeat = repeat_pairs.get(new_field.name)
            if old_repeat is None:
                continue
            old_cols = {c.name: c for c in old_repeat.columns}
            new_col_names = {c.name for c in new_field.columns}
            for column in new_field.columns:
                old_col, renamed = self._counterpart(column, old_cols, new_col_names, taken)
                if old_col is not None:
                    taken.add(old_col.path)
                    pairs.append((old_col, column, renamed))

        # 2. Across containers: a top-level field moved into a repeat, or a column moved out.
        matched_new = {id(n) for _, n, _ in pairs}
        for new_field in self.new.fields:
            if id(new_field) not in matched_new:
                for name in self._candidate_names(new_field):
                    found = next(((r, c) for r, c in old_columns.get(name, []) if c.path not in taken), None)
                    if found:
                        taken.add(found[1].path)
                        matched_new.add(id(new_field))
                        moves.append(("moved_out_of_repeat", found[1], new_field, found[0], None))
                        break
            for column in new_field.columns:
                if id(column) in matched_new:
                    continue
                for name in self._candidate_names(column):
                    old_field = old_top.get(name)
                    if old_field is not None and old_field.path not in taken:
                        taken.add(old_field.path)
                        matched_new.add(id(column))
                        moves.append(("moved_into_repeat", old_field, column, None, new_field))
                        break

        # 3. Findings, in the order of the old form, then what is new.
        # A removed or added repeat is one finding, not one per column.
        for old_field in self.old.fields:
            if old_field.path not in taken:
                self.removed(old_field)
            else:
                for column in old_field.columns:
                    if column.path not in taken:
                        self.removed(column)
        for kind, old_field, new_field, old_repeat, new_repeat in moves:
            self.moved(kind, old_field, new_field, old_repeat, new_repeat)
        for old_field, new_field, renamed in pairs:
            if renamed:
                self.renamed(old_field, new_field)
            self.changed(old_field, new_field)
        for kind, old_field, new_field, _, _ in moves:
            self.changed(old_field, new_field, type_only=True)
        for new_field in self.new.fields:
            if id(new_field) not in matched_new:
                self.added(new_field)
            else:
                for column in new_field.columns:
                    if id(column) not in matched_new:
                        self.added(column)
        return self.findings

    @staticmethod
    def _candidate_names(spec):
        names = [spec.name]
        if spec.model.renamed_from and spec.model.renamed_from != spec.name:
            names.append(spec.model.renamed_from)
        return names

    @staticmethod
    def _counterpart(new_field, old_by_name, new_names, taken):
        same = old_by_name.get(new_field.name)
        if same is not None and same.path not in taken:
            return same, False
        previous = new_field.model.renamed_from
        # A rename takes the old name only when no new field still carries it.
        if previous and previous not in new_names:
            old_field = old_by_name.get(previous)
            if old_field is not None and old_field.path not in taken:
                return old_field, True
        return None, False

    # --- the findings --------------------------------------------------------

    def removed(self, old):
        zh, en = _names(old)
        self.add("field_removed", old.path,
                 f"旧提交中的“{zh}”仍按旧版本显示；新版本不再收集此项。",
                 f"Old submissions still show “{en}” with their own version; the new version no longer asks for it.")

    def moved(self, kind, old, new, old_repeat, new_repeat):
        zh, en = _names(new)
        if kind == "moved_into_repeat":
            r_zh, r_en = _names(new_repeat)
            self.add(kind, new.path,
                     f"“{zh}”移入了重复表“{r_zh}”：旧提交中它是整张表单的一个答案，仍按旧版本显示；"
                     f"新版本每行填写一次，新旧数据不能直接合并统计。",
                     f"“{en}” moved into the repeat “{r_en}”: old submissions hold one answer for the whole form "
                     f"and still show it with their own version; the new version asks for it on every row, "
                     f"so old and new answers cannot be totalled together.")
        else:
            r_zh, r_en = _names(old_repeat)
            self.add(kind, new.path,
                     f"“{zh}”移出了重复表“{r_zh}”：旧提交中它按行填写，仍按旧版本逐行显示；"
                     f"新版本整张表单只填一次，新旧数据不能直接合并统计。",
                     f"“{en}” moved out of the repeat “{r_en}”: old submissions hold it on every row and still "
                     f"show it that way; the new version asks for it once per form, "
                     f"so old and new answers cannot be totalled together.")

    def renamed(self, old, new):
        zh, en = _names(new)
        self.add("field_renamed", new.path,
                 f"“{zh}”由 {old.name} 改名为 {new.name}：旧提交的答案按新名称读取，仍可显示和汇总。",
                 f"“{en}” was renamed from {old.name} to {new.name}: old answers are read under the new name "
                 f"and still show and add up with new ones.")

    def changed(self, old, new, type_only=False):
        zh, en = _names(new)
        if old.type != new.type:
            self.add("type_changed", new.path,
                     f"“{zh}”的类型由 {old.type} 改为 {new.type}：旧提交仍按旧版本的类型显示，答案不作转换；"
                     f"新旧数据不能直接合并统计。",
                     f"“{en}” changed type from {old.type} to {new.type}: old submissions still show it with "
                     f"the old type and their answers are not converted; old and new answers cannot be "
                     f"compared directly.")
        if type_only:
            return
        if old.type in CHOICE_TYPES and new.type in CHOICE_TYPES:
            self.choices(old, new)
        if old.type not in ("note", "calculate") and _required_rank(new.model) > _required_rank(old.model):
            self.add("required_added", new.path,
                     f"“{zh}”改为必填：旧提交中此项可能为空，仍按旧版本显示为空；新提交必须填写。",
                     f"“{en}” is now required: old submissions may have left it empty and still show it empty; "
                     f"new submissions must fill it in.")

    def choices(self, old, new):
        kept = {c.value for c in new.choices or []}
        used = None if self.used is None else set(self.used.get(old.path) or ())
        zh, en = _names(new)
        for choice in old.choices or []:
            if choice.value in kept or (used is not None and choice.value not in used):
                continue
            c_zh, c_en = choice.label.get("zh"), choice.label.get("en")
            if used is None:
                zh_tail, en_tail = "如旧提交选过此项，", "Old submissions that chose it "
            else:
                zh_tail, en_tail = "已有旧提交选了此项，", "Some old submissions chose it; they "
            self.add("choice_removed", new.path,
                     f"“{zh}”删除了选项“{c_zh}”（{choice.value}）：{zh_tail}仍按旧版本显示为“{c_zh}”；"
                     f"新提交不能再选择它。",
                     f"“{en}” lost the choice “{c_en}” ({choice.value}): {en_tail}still show “{c_en}” with "
                     f"their own version; new submissions can no longer choose it.")

    def added(self, new):
        zh, en = _names(new)
        self.add("field_added", new.path,
                 f"新增“{zh}”：旧提交中没有此项，显示为空。",
                 f"“{en}” is new: old submissions do not have it and show it empty.")


def compare(old, new, used_choices=None):
    """Findings for submissions made with ``old`` when ``new`` is published.

    ``used_choices`` maps a field path of ``old`` to the choice values old
    answers actually hold; a removed choice is reported only when used. With
    None, every removed choice is reported.
    """
    return _Matcher(old, new, used_choices).run()
