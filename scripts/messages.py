"""Keep the message catalogs (app/locales/<locale>/LC_MESSAGES/messages.po) in step with app/.

    .venv/bin/python scripts/messages.py          # extract, merge into every catalog
    .venv/bin/python scripts/messages.py --check  # exit 1 if a catalog is stale (a test runs it)
    .venv/bin/python scripts/messages.py --init ja  # start a catalog for a new language

Babel extracts the English templates a problem response can show: an error's detail (the 2nd
argument of Invalid, NotFound, ...), a FieldError's message, and every N_(...) or
Message(...). Merging adds new templates untranslated and drops vanished ones; translate the
new ones in each .po (tests/contract/test_messages.py fails while one is untranslated).
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "app" / "locales"
ERRORS = ("Invalid", "NotFound", "Conflict", "Unauthenticated", "Forbidden", "TooManyAttempts")
KEYWORDS = {
    "N_": None,
    "Message": None,
    "Text": None,  # app.routers.problems' name for Message
    "_bad_number": None,
    **dict.fromkeys((*ERRORS, "Unavailable", "DomainError", "FieldError"), (2,)),
}


def template() -> Catalog:
    found = Catalog()
    # Babel warns of every f-string in those calls, field paths included (field=f"lines[{i}]");
    # a test makes sure no message itself is an f-string, so the warnings are left unsaid.
    with contextlib.redirect_stderr(io.StringIO()):
        for _, _, message, _, _ in extract_from_dir(
            ROOT / "app", method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message)
    return found


def catalogs() -> list[Path]:
    return sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))


def init(locale: str) -> None:
    path = LOCALES / locale / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True, exist_ok=False)
    with path.open("wb") as f:
        write_po(f, Catalog(locale=locale, project="loyalty", version="1"))


def main(check: bool) -> int:
    wanted = template()
    stale = 0
    for path in catalogs():
        with path.open("rb") as f:
            catalog = read_po(f)
        have = {m.id for m in catalog if m.id}
        want = {m.id for m in wanted if m.id}
        if check:
            for text in sorted(want - have):
                print(f"{path.relative_to(ROOT)}: missing {text!r}")
            for text in sorted(have - want):
                print(f"{path.relative_to(ROOT)}: no longer used {text!r}")
            stale += have != want
            continue
        created = catalog.creation_date  # no churn in the header when nothing changed
        catalog.update(wanted, no_fuzzy_matching=True)
        catalog.creation_date = created
        catalog.project, catalog.version = "loyalty", "1"
        catalog.msgid_bugs_address = ""
        catalog.last_translator = catalog.language_team = "loyalty maintainers"
        with path.open("wb") as f:
            write_po(f, catalog, width=100, sort_output=True, ignore_obsolete=True)
        print(f"{path.relative_to(ROOT)}: {len(want - have)} new, {len(have - want)} dropped")
    return 1 if stale else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--init"] and len(args) == 2:
        init(args[1])
    sys.exit(main("--check" in args))
