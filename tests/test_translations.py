"""Every message the code and templates can show has a Chinese translation.

The catalogue is rebuilt by `pybabel extract`; a keyword left off that command
once dropped every `lazy_pgettext` entry and the action buttons fell back to
English. Extracting here with the README's keywords catches that and any
string added without its translation.
"""
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "workflows" / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_pgettext": ((1, "c"), 2), "lazy_ngettext": (1, 2)}


def extracted():
    with open(TRANSLATIONS / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.add((context, message if isinstance(message, str) else message[0]))
    return found


def test_every_message_in_the_code_is_translated_into_chinese():
    with open(TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po", "rb") as po:
        catalog = read_po(po)
    translated = set()
    for message in catalog:
        if not message.id:
            continue
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if all(strings):
            translated.add((message.context, message.id if isinstance(message.id, str) else message.id[0]))
    found = extracted()
    assert len(found) > 400
    assert ("workflow action", "Approve") in found
    assert sorted(found - translated, key=str) == []
