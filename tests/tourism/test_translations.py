"""The committed Spanish catalogue is complete: no message left untranslated or
fuzzy, and the compiled .mo is not older than the .po it comes from."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings

PO = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"


def _entries(text: str) -> list[tuple[str, list[str], str]]:
    """(msgid, msgstr values, comment lines) per entry; continuation lines joined."""
    entries = []
    for block in re.split(r"\n\s*\n", text):
        lines = block.strip().splitlines()
        if not lines or all(line.startswith("#~") for line in lines):
            continue  # obsolete
        comments = "\n".join(line for line in lines if line.startswith("#"))
        fields: dict[str, str] = {}
        key = None
        for line in lines:
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif key and line.startswith('"'):
                fields[key] += line[1:-1]
        if "msgid" not in fields:
            continue
        values = [v for k, v in fields.items() if k.startswith("msgstr")]
        entries.append((fields["msgid"], values, comments))
    return entries


def test_every_message_is_translated_and_none_is_fuzzy():
    entries = _entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 500  # the parser found the catalogue
    untranslated = [m for m, values, _ in entries if m and not all(values)]
    fuzzy = [m for m, _, comments in entries if m and "fuzzy" in comments]
    assert not untranslated, untranslated[:10]
    assert not fuzzy, fuzzy[:10]


def test_compiled_catalogue_matches_the_po():
    """Every singular message of the .po translates the same through the committed
    .mo: it was compiled after the last change to the .po."""
    with PO.with_suffix(".mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    stale = []
    for msgid, values, comments in _entries(PO.read_text(encoding="utf-8")):
        if not msgid or len(values) != 1 or "msgctxt" in comments:
            continue
        source, wanted = _unescape(msgid), _unescape(values[0])
        if catalogue.gettext(source) != wanted:
            stale.append(source)
    assert not stale, stale[:10]


def _unescape(value: str) -> str:
    return ast.literal_eval(f'"{value}"')
