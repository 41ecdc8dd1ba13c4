"""The message catalogs: current with the code, complete, and every error code readable in
each language. (How a request picks its language: tests/api/test_languages.py.)"""

from __future__ import annotations

import ast
import functools
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from app.domain import errors
from app.domain.error_codes import DOMAIN_CODES
from app.routers import i18n, problems
from app.uow import CONSTRAINT_ERRORS

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
CATALOGS = sorted((APP / "locales").glob("*/LC_MESSAGES/messages.po"))
KINDS = {k.__name__: k for k in errors.DomainError.__subclasses__()} | {
    "DomainError": errors.DomainError
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _calls(names: set[str]):
    """(path, call node, called name) for each call of one of ``names`` in app/."""
    for path in sorted(APP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in names:
                    yield path, node, name


def _placeholders(text: str) -> set[tuple[str, str | None, str | None]]:
    return {
        (field, conversion, spec)
        for _, field, spec, conversion in string.Formatter().parse(text)
        if field is not None
    }


def test_the_catalogs_are_current_with_the_code():
    run = subprocess.run(
        [sys.executable, "scripts/messages.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, "run scripts/messages.py, then translate:\n" + run.stdout


def test_zh_hans_is_a_catalog():
    assert [p.parent.parent.name for p in CATALOGS] == ["zh_Hans"]
    assert set(i18n.SUPPORTED) == {"en", *(p.parent.parent.name for p in CATALOGS)}


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.parent.parent.name)
def test_every_message_is_translated_with_the_same_placeholders(path):
    with path.open("rb") as f:
        catalog = read_po(f)
    messages = [m for m in catalog if m.id]
    assert len(messages) > 300
    for m in messages:
        assert m.string.strip(), f"untranslated: {m.id!r}"
        assert not m.fuzzy, f"fuzzy: {m.id!r}"
        assert _placeholders(m.string) == _placeholders(m.id), m.id
        assert CJK.search(m.string) or not re.search("[a-z]{3}", m.id), m.id


def test_no_message_is_an_f_string():
    """An f-string can't be looked up in a catalog: the template and its values go apart."""
    at = {"Message": 0, "N_": 0, "FieldError": 1, **dict.fromkeys(KINDS, 1)}
    found = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, node, name in _calls(set(at))
        if len(node.args) > at[name] and isinstance(node.args[at[name]], ast.JoinedStr)
    ]
    assert found == []


@functools.cache
def _raised_codes() -> dict[str, set[str]]:
    """code -> the kinds of error raised with it, where the code is written out."""
    raised: dict[str, set[str]] = {}
    for _, node, name in _calls(set(KINDS)):
        if node.args and isinstance(node.args[0], ast.Constant):
            raised.setdefault(node.args[0].value, set()).add(name)
    return raised


def test_the_registry_lists_every_code_raised():
    raised = set(_raised_codes())
    # Codes built or passed along rather than written at the raise.
    indirect = {code for code, _, _ in CONSTRAINT_ERRORS.values()} | {"integrity_conflict"}
    assert raised - DOMAIN_CODES == set()
    unseen = DOMAIN_CODES - raised - indirect
    # Written at a helper's call (refuse_any, the basket's line checks, card_<status>, ...).
    source = "\n".join(p.read_text(encoding="utf-8") for p in APP.rglob("*.py"))
    dynamic = {"card_", "invalid_discount_rule", "invalid_points_rule"}
    assert {
        c for c in unseen if f'"{c}"' not in source and not c.startswith(tuple(dynamic))
    } == set()
    assert set(problems.ERROR_CODES) == DOMAIN_CODES | problems.FRAMEWORK_CODES


def _titles(code: str) -> set[str]:
    kinds = _raised_codes().get(code)
    if code in problems.FRAMEWORK_CODES:
        status = {v: k for k, v in problems.HTTP_CODES.items()}.get(code)
        status = status or {"validation_error": 422, "internal_error": 500}.get(code, 400)
        return {problems.problem_body(status, code, "x")["title"]}
    if not kinds:  # raised through a helper or a table: a conflict (card_<status>, ...) or not
        conflicts = {c for c, _, _ in CONSTRAINT_ERRORS.values()} | {"integrity_conflict"}
        kinds = {"Conflict" if code in conflicts or code.startswith("card_") else "Invalid"}
    return {problems.render(KINDS[kind](code, "x"))[1]["title"] for kind in kinds}


@pytest.mark.parametrize("code", problems.ERROR_CODES)
def test_every_code_has_an_english_and_a_chinese_title(code):
    with i18n.speaking("en"):
        english = _titles(code)
    with i18n.speaking("zh_Hans"):
        chinese = _titles(code)
    assert all(t.isascii() and t for t in english), english
    assert all(CJK.search(t) for t in chinese), chinese
