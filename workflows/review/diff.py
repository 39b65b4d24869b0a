"""What changed between the version a reviewer returned and the one that came back: answers, files, roster rows.

Both sides are compared as stored (an ID number by its hash, a file by its token, so a re-encrypted
number or a re-uploaded photo under the same token is not a change) and shown as the viewer may see
them (``personal_data.masked``). Roster rows are matched as a sequence: a row removed in the middle
is one removal, not every later row changed.
"""
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from ..filling.personal_data import masked


@dataclass
class FieldChange:
    label: str
    before: str
    after: str


@dataclass
class FileChange:
    label: str
    added: list
    removed: list


@dataclass
class RosterChange:
    label: str
    added: list = field(default_factory=list)     # [(row number after, text)]
    removed: list = field(default_factory=list)   # [(row number before, text)]
    changed: list = field(default_factory=list)   # [(row number after, [FieldChange])]


@dataclass
class Diff:
    fields: list
    files: list
    rosters: list

    def __bool__(self):
        return bool(self.fields or self.files or self.rosters)


def _key(value):
    if isinstance(value, dict):
        if "hash" in value:
            return ("id_number", value["hash"])
        if "id" in value:
            return ("file", value["id"])
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_key(v) for v in value)
    return value


def _choice_label(spec, value, language):
    for choice in spec.choices or []:
        if choice.value == value:
            return choice.label.get(language)
    return str(value)


def text(spec, value, language):
    """One answer as a line of text."""
    if value is None or value == "" or value == []:
        return "—"
    if spec.type == "boolean":
        return ("是" if value else "否") if language == "zh" else ("Yes" if value else "No")
    if spec.type == "choice":
        return _choice_label(spec, value, language)
    if spec.type == "multi_choice":
        return "、".join(_choice_label(spec, v, language) for v in value)
    if spec.type in ("image", "file"):
        return "、".join(ref.get("name") or "" for ref in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _row_text(columns, row, language):
    return "；".join(f"{c.model.title(language)}：{text(c, row.get(c.name), language)}"
                    for c in columns if row.get(c.name) not in (None, "", []))


def _row_changes(columns, before, after, language):
    return [FieldChange(c.model.title(language), text(c, before.get(c.name), language),
                        text(c, after.get(c.name), language))
            for c in columns if _key(before.get(c.name)) != _key(after.get(c.name))]


def _identity(columns, row):
    """Who a row is about: its ID numbers, else its first column."""
    ids = tuple(_key(row.get(c.name)) for c in columns if c.type == "id_card" and row.get(c.name))
    return ids or (_key(row.get(columns[0].name)) if columns else None)


def _pairs(columns, before_rows, after_rows, before, after):
    """Rows of a replaced stretch that are the same person edited: by identity, else by place if none match."""
    pairs, free = [], list(before)
    for a in after:
        same = next((b for b in free if _identity(columns, before_rows[b]) == _identity(columns, after_rows[a])), None)
        if same is not None:
            pairs.append((same, a))
            free.remove(same)
    if not pairs and len(before) == len(after):
        pairs = list(zip(before, after))
    return pairs


def _roster(spec, before_rows, after_rows, shown_before, shown_after, language):
    columns = [c for c in spec.columns if c.type != "note"]
    change = RosterChange(spec.model.title(language))
    keys_before = [_key(r) for r in before_rows]
    keys_after = [_key(r) for r in after_rows]
    for op, b1, b2, a1, a2 in SequenceMatcher(None, keys_before, keys_after, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        pairs = _pairs(columns, before_rows, after_rows, range(b1, b2), range(a1, a2))
        for b, a in pairs:
            change.changed.append((a + 1, _row_changes(columns, shown_before[b], shown_after[a], language)))
        paired_before, paired_after = {b for b, _ in pairs}, {a for _, a in pairs}
        for n in range(b1, b2):
            if n not in paired_before:
                change.removed.append((n + 1, _row_text(columns, shown_before[n], language)))
        for n in range(a1, a2):
            if n not in paired_after:
                change.added.append((n + 1, _row_text(columns, shown_after[n], language)))
    return change if (change.added or change.removed or change.changed) else None


def between(spec, before, after, language, submitting_unit=False):
    """The changes from ``before`` to ``after`` (stored answers), labelled for ``language``."""
    shown_before = masked(spec, before or {}, submitting_unit=submitting_unit)
    shown_after = masked(spec, after or {}, submitting_unit=submitting_unit)
    fields, files, rosters = [], [], []
    for spec_field in spec.fields:
        if spec_field.type == "note":
            continue
        old, new = (before or {}).get(spec_field.name), (after or {}).get(spec_field.name)
        if _key(old) == _key(new):
            continue
        label = spec_field.model.title(language)
        if spec_field.type in ("image", "file"):
            old_ids = {ref.get("id") for ref in old or []}
            new_ids = {ref.get("id") for ref in new or []}
            files.append(FileChange(label, [ref for ref in new or [] if ref.get("id") not in old_ids],
                                    [ref for ref in old or [] if ref.get("id") not in new_ids]))
        elif spec_field.type == "repeat":
            roster = _roster(spec_field, old or [], new or [], shown_before.get(spec_field.name) or [],
                             shown_after.get(spec_field.name) or [], language)
            if roster:
                rosters.append(roster)
        else:
            fields.append(FieldChange(label, text(spec_field, shown_before.get(spec_field.name), language),
                                      text(spec_field, shown_after.get(spec_field.name), language)))
    return Diff(fields, files, rosters)
