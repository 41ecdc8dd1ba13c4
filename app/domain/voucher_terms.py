"""Checks shared by the terms of rewards (积分商城) and 返券 rules (docs/domain §12). Pure.

Both name a voucher template, card classes and a window, and both are refused with one 422
naming every bad field: the references (a template, classes, stores the tenant doesn't have)
are checked with the shapes, from the sets of known codes a read gave (``References``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime

from app.domain.audit import FieldChange, as_text
from app.domain.errors import FieldError

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
MAX_NAME = 100
MAX_INT = 2_147_483_647  # an INTEGER column
MAX_LIST = 200  # card classes, stores, codes per scope level
MAX_LIST_CODE = 64


@dataclass(frozen=True)
class References:
    """Those of the codes some terms name that exist in the tenant."""

    templates: frozenset[str] = frozenset()
    card_classes: frozenset[str] = frozenset()
    stores: frozenset[str] = frozenset()


def is_count(value: object, least: int) -> bool:
    """A JSON integer (not a bool) from ``least`` to what an INTEGER column holds."""
    return isinstance(value, int) and not isinstance(value, bool) and least <= value <= MAX_INT


def header_errors(code: str, name: str, template: str, known: References) -> list[FieldError]:
    errors = []
    if not CODE.fullmatch(code):
        errors.append(
            FieldError("code", "1-32 letters, digits, '_' or '-', starting with a letter or digit")
        )
    if not 1 <= len(name.strip()) <= MAX_NAME:
        errors.append(FieldError("name", "1-{max} characters", max=MAX_NAME))
    if template not in known.templates:
        errors.append(
            FieldError("template", "no voucher template {template}", template=template[:40])
        )
    return errors


def list_errors(
    field: str, codes: Iterable[str], known: frozenset[str] | None, what: str
) -> list[FieldError]:
    """Each code of ``field`` non-empty and short, and one of ``known`` (None: any)."""
    listed = list(codes)
    if len(listed) > MAX_LIST:
        return [FieldError(field, "at most {max} codes", max=MAX_LIST)]
    errors = []
    for i, code in enumerate(listed):
        if not 1 <= len(code) <= MAX_LIST_CODE:
            errors.append(FieldError(f"{field}[{i}]", "1-{max} characters", max=MAX_LIST_CODE))
        elif known is not None and code not in known:
            errors.append(FieldError(f"{field}[{i}]", what, code_name=code))
    return errors


def window_errors(starts_at: datetime | None, ends_at: datetime | None) -> list[FieldError]:
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        return [FieldError("ends_at", "must be after starts_at")]
    return []


def in_window(starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> bool:
    """Whether ``now`` is in [starts_at, ends_at) (an open end is no bound)."""
    return (starts_at is None or starts_at <= now) and (ends_at is None or now < ends_at)


def _log_text(value: object) -> str | None:
    """As the change log keeps a value: lists and scopes as compact JSON."""
    if isinstance(value, tuple):
        return json.dumps(sorted(set(value)), ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, Mapping):
        scope = {level: sorted(set(codes)) for level, codes in sorted(value.items()) if codes}
        return json.dumps(scope, ensure_ascii=False, separators=(",", ":"))
    return as_text(value)


def changed_terms(before: object | None, after: object | None, terms: type) -> list[FieldChange]:
    """One change-log entry per term of ``terms`` (a dataclass) that differs, the code aside
    (it names the object)."""
    out = []
    for name in (f.name for f in fields(terms) if f.name != "code"):
        old = _log_text(getattr(before, name)) if before is not None else None
        new = _log_text(getattr(after, name)) if after is not None else None
        if old != new:
            out.append(FieldChange(name, old, new))
    return out
