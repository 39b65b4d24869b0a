"""A shipped definition version never changes: each built-in file's SHA-256 is pinned here.

Submissions keep the version they were filled under, and a database that has
a version stored keeps its text, so editing a shipped version in place would
make a fresh install and an upgraded one disagree about the same version.
A change is a new file (``key_vN.yaml``, the next version) and a new line
below; a file missing from this list is a new version to pin.
"""
from pathlib import Path

from forms.definition import sha256_of

DEFINITIONS = Path(__file__).resolve().parent.parent / "workflows" / "definitions"
PINNED = {
    "assessment/obligations.yaml": "4ff1a5c3335dcdafb2c395f8d20c0bbdc7a34ebc693cc29b0dfcee9e4b25136f",
    "assessment/unit_scores.yaml": "d557ce11031efe2412c0d6ffcbd70ba3f311c3d7b12e3855d5b7ca887ea65309",
    "forms/activity_report.yaml": "be45fa54fa11cceeadc60900b881e57fd84cd3092a35acaf08d027abe24bf675",
    "forms/activity_report_v2.yaml": "29186b09a586e71bc0cfaba76acd845c6d0ce8723445159e5dea5674d8c7db4d",
    "forms/circular.yaml": "01890d0e86a1b6eba7616feac6f2f3cd70469d39bbc41ef575adcb0cc3de3c19",
    "forms/exemplar_nomination.yaml": "75ab511aab6194d1ac065254f96edc50294c167a0d0313cc337d20c88ca7f36a",
    "forms/exemplar_nomination_v2.yaml": "100d64a2ed0f0d686eaa8e6bc9d4c752f042b3f3018c40b030dcc4d2ff66439b",
    "forms/innovation_case.yaml": "11479588b1cb2b0c7863cf63a548493c0aa3ce474d8b567d6164bf2b3ca37911",
    "forms/volunteer_registration.yaml": "8fe7eb7dfab5e5426e61b9066e4f62362a62f92fe74e9b7057b4eef1794ee979",
    "workflows/activity_review.yaml": "4993fa4917b98ac8050815b30492258c8cc18da88570c394a1b5f9c8a3e1fe23",
    "workflows/circular_review.yaml": "37570fd5b34a9f0ff1f60de10ef7e8230d6816e6fc255d937edba957493bf8c6",
    "workflows/exemplar_review.yaml": "3580e3837bfa65a04ef8b0cf0c36f2604df5efb6184bb4eb6657433725678a87",
    "workflows/exemplar_review_v2.yaml": "2d03cfa891929ec0acf199478d1e3b71e0ff86bd3e0ff7ce7d836a0d028d9e57",
    "workflows/volunteer_registration_review.yaml": "013f4cfea3738b006f6ae524672d131f75c754b0da6a387e6b6c8f0261c09552",
}


def test_no_shipped_definition_version_is_edited_in_place():
    found = {str(p.relative_to(DEFINITIONS)): sha256_of(p.read_text(encoding="utf-8"))
             for p in sorted(DEFINITIONS.rglob("*.yaml"))}
    changed = sorted(name for name in PINNED if found.get(name) != PINNED[name])
    assert changed == [], f"shipped versions changed in place (publish a new version instead): {changed}"
    assert sorted(set(found) - set(PINNED)) == [], "a new built-in version: pin its SHA-256 here"
