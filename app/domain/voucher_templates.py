"""Voucher templates as an admin sets them (docs/domain §12): what makes one valid, what may no
longer change once it has issued vouchers, and its change log (修改日志). Pure.

``template_terms`` holds every rule, so that a create and an update (the current template
merged with the patch) are judged alike, and one 422 names every bad field. Whether the
stores, card classes and sharing group it names exist is read by the service beforehand and
handed in as ``References``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from app.domain import audit
from app.domain.audit import FieldChange
from app.domain.card_classes import RATE_PLACES
from app.domain.errors import N_, Conflict, FieldError, Message, refuse_any
from app.domain.money import decimal_places
from app.domain.vouchers import SCOPE_LEVELS, Kind, Scope, Template

TEMPLATE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
MAX_NAME = 100
# Amounts are Numeric(12, 2): below 10^10 CNY.
VALUE_LIMIT = Decimal(10) ** 10
MAX_VALID_DAYS = 3660  # ten years
MAX_PER_MEMBER = 10_000
MAX_LIST = 1000  # stores, card classes, codes at one scope level
MAX_TARGET = 64  # a goods code (sku, brand, ...)

# What a voucher already issued is worth: frozen once the template has issued one.
VALUE_FIELDS = ("kind", "face_value", "rate", "max_discount")
# The change log's fields, in the API's spelling.
LOGGED_FIELDS = (
    "name",
    "kind",
    "face_value",
    "rate",
    "max_discount",
    "min_spend",
    "stores",
    "include",
    "exclude",
    "card_classes",
    "bearer",
    "valid_days",
    "valid_from",
    "valid_to",
    "per_member_limit",
    "sharing_group",
    "store_share",
)


@dataclass(frozen=True)
class TemplateRecord(Template):
    """A stored template: its terms and when it was made and last changed."""

    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class References:
    """Which of the codes a template names are the tenant's own (read before judging it)."""

    stores: frozenset[str] = frozenset()
    card_classes: frozenset[str] = frozenset()
    sharing_groups: frozenset[str] = frozenset()


def _amount_problem(value: Decimal, *, positive: bool) -> str | Message | None:
    if not value.is_finite():
        return N_("must be a finite number")
    if positive and not 0 < value < VALUE_LIMIT:
        return Message("must be > 0 and below {limit} CNY", limit=VALUE_LIMIT)
    if not 0 <= value < VALUE_LIMIT:
        return Message("must be ≥ 0 and below {limit} CNY", limit=VALUE_LIMIT)
    if decimal_places(value) > 2:
        return N_("must have at most 2 decimal places")
    return None


def _fraction_problem(value: Decimal, *, open_interval: bool) -> str | Message | None:
    """A rate (0 < rate < 1: a voucher that takes nothing off, or all, is no percent_off) or
    a share (0 ≤ share ≤ 1)."""
    if not value.is_finite():
        return N_("must be a finite number")
    if open_interval and not 0 < value < 1:
        return N_("must be greater than 0 and less than 1")
    if not 0 <= value <= 1:
        return N_("must be from 0 to 1")
    if decimal_places(value) > RATE_PLACES:
        return Message("must have at most {places} decimal places", places=RATE_PLACES)
    return None


def _codes_problems(field: str, codes: Iterable[str]) -> list[FieldError]:
    listed = list(codes)
    if len(listed) > MAX_LIST:
        return [FieldError(field, "at most {max_list} codes", max_list=MAX_LIST)]
    if not all(0 < len(code.strip()) <= MAX_TARGET for code in listed):
        return [
            FieldError(field, "each code must be 1-{max_target} characters", max_target=MAX_TARGET)
        ]
    return []


def patched(current: Template, changes: Mapping[str, Any]) -> Template:
    """``current`` with the fields a PATCH sent, in the API's spelling: ``include`` and
    ``exclude`` each replace their whole map, lists become sets."""
    old_include, old_exclude = current.scope.as_json()
    values = {f.name: getattr(current, f.name) for f in fields(Template)}
    for name, value in changes.items():
        if name in ("stores", "card_classes"):
            values[name] = frozenset(value)
        elif name == "kind":
            values[name] = Kind(value)
        elif name not in ("include", "exclude"):
            values[name] = value
    values["scope"] = Scope.of(
        changes.get("include", old_include), changes.get("exclude", old_exclude)
    )
    return Template(**values)


def template_terms(template: Template, known: References) -> Template:
    """``template`` when every rule holds; else one 422 ``invalid_voucher_template`` naming
    every field (as the API spells it) that breaks one."""
    t = template
    errors: list[FieldError] = []

    def check(ok: bool, field: str, message: str | Message) -> None:
        if not ok:
            errors.append(FieldError(field, message))

    def amount(field: str, value: Decimal | None, *, positive: bool) -> bool:
        problem = _amount_problem(value, positive=positive) if value is not None else None
        if problem:
            errors.append(FieldError(field, problem))
        return value is not None and problem is None

    check(
        bool(TEMPLATE_CODE.fullmatch(t.code)), "code", N_("must be 1-32 of A-Z, a-z, 0-9, _ or -")
    )
    check(
        0 < len(t.name.strip()) <= MAX_NAME,
        "name",
        Message("must be 1-{max_name} characters", max_name=MAX_NAME),
    )
    face_ok = amount("face_value", t.face_value, positive=True)
    min_spend_ok = amount("min_spend", t.min_spend, positive=False)
    amount("max_discount", t.max_discount, positive=True)
    if t.kind is Kind.PERCENT_OFF:
        check(t.rate is not None, "rate", N_("is required for percent_off"))
        if t.rate is not None and (problem := _fraction_problem(t.rate, open_interval=True)):
            errors.append(FieldError("rate", problem))
        check(t.face_value is None, "face_value", N_("is for amount_off and threshold_amount_off"))
    else:
        check(
            t.face_value is not None, "face_value", Message("is required for {kind}", kind=t.kind)
        )
        check(t.rate is None, "rate", N_("is for percent_off only"))
        check(t.max_discount is None, "max_discount", N_("is for percent_off only"))
    if t.kind is Kind.THRESHOLD_AMOUNT_OFF:
        check(t.min_spend is not None, "min_spend", N_("is required for threshold_amount_off"))
        if face_ok and min_spend_ok:
            assert t.face_value is not None and t.min_spend is not None
            check(
                t.min_spend >= t.face_value,
                "min_spend",
                Message("must be at least face_value ({face_value})", face_value=t.face_value),
            )

    errors += _codes_problems("stores", t.stores)
    errors += [
        FieldError("stores", "no store {code_name} in this tenant", code_name=code)
        for code in sorted(t.stores - known.stores)
    ]
    errors += _codes_problems("card_classes", t.card_classes)
    errors += [
        FieldError("card_classes", "no card class {code_name} in this tenant", code_name=code)
        for code in sorted(t.card_classes - known.card_classes)
    ]
    for side, levels in (("include", t.scope.include), ("exclude", t.scope.exclude)):
        for level, codes in levels.items():
            if level not in SCOPE_LEVELS:
                errors.append(
                    FieldError(
                        f"{side}.{level}",
                        "is not a level: use {levels}",
                        levels=", ".join(SCOPE_LEVELS),
                    )
                )
            else:
                errors += _codes_problems(f"{side}.{level}", codes)

    window = (t.valid_from, t.valid_to)
    if t.valid_days is not None:
        check(
            1 <= t.valid_days <= MAX_VALID_DAYS,
            "valid_days",
            Message("must be 1-{max_valid_days}", max_valid_days=MAX_VALID_DAYS),
        )
        check(window == (None, None), "valid_days", N_("give valid_days or valid_from/valid_to"))
    elif window == (None, None):
        errors.append(FieldError("valid_days", N_("give valid_days or valid_from/valid_to")))
    else:
        check(t.valid_from is not None, "valid_from", N_("is required with valid_to"))
        check(t.valid_to is not None, "valid_to", N_("is required with valid_from"))
        if t.valid_from is not None and t.valid_to is not None:
            check(t.valid_to > t.valid_from, "valid_to", N_("must be after valid_from"))

    if t.per_member_limit is not None:
        check(
            1 <= t.per_member_limit <= MAX_PER_MEMBER,
            "per_member_limit",
            Message("must be 1-{max_per_member} or null", max_per_member=MAX_PER_MEMBER),
        )
    if t.store_share is not None:
        if problem := _fraction_problem(t.store_share, open_interval=False):
            errors.append(FieldError("store_share", problem))
        check(
            t.sharing_group is None,
            "store_share",
            N_("give sharing_group or store_share, not both"),
        )
    if t.sharing_group is not None:
        check(
            t.sharing_group in known.sharing_groups,
            "sharing_group",
            Message("no sharing group {code_name} in this tenant", code_name=t.sharing_group),
        )
    refuse_any(errors, "invalid_voucher_template", N_("The voucher template"))
    return template


FROZEN = N_("cannot change once vouchers were issued")


def check_change(current: Template, new: Template, in_use: bool) -> None:
    """Once vouchers were issued, what they are worth (kind, face_value, rate, max_discount)
    stays: a 409 naming each such field the change would alter."""
    if not in_use:
        return
    frozen = [f for f in VALUE_FIELDS if getattr(new, f) != getattr(current, f)]
    if frozen:
        raise Conflict(
            "template_in_use",
            "Template {code_name} has issued vouchers, so what they are worth ({value}) can no "
            "longer change.",
            errors=[FieldError(f, FROZEN) for f in frozen],
            code_name=current.code,
            value=", ".join(frozen),
        )


def refuse_delete(code: str, in_use: bool) -> None:
    if in_use:
        raise Conflict(
            "template_in_use",
            "Template {code_name} has issued vouchers and cannot be deleted.",
            code_name=code,
        )


# --- change log ----------------------------------------------------------------------------


def api_values(t: Template) -> dict[str, object]:
    """The logged fields as the API spells them (lists sorted)."""
    include, exclude = t.scope.as_json()
    return {
        "name": t.name,
        "kind": t.kind.value,
        "face_value": t.face_value,
        "rate": t.rate,
        "max_discount": t.max_discount,
        "min_spend": t.min_spend,
        "stores": sorted(t.stores),
        "include": include,
        "exclude": exclude,
        "card_classes": sorted(t.card_classes),
        "bearer": t.bearer,
        "valid_days": t.valid_days,
        "valid_from": t.valid_from,
        "valid_to": t.valid_to,
        "per_member_limit": t.per_member_limit,
        "sharing_group": t.sharing_group,
        "store_share": t.store_share,
    }


def _text(value: object) -> str | None:
    """Lists and scopes as compact JSON, the rest as the log spells values."""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return audit.as_text(value)


def changed_fields(before: Template | None, after: Template | None) -> list[FieldChange]:
    """One entry per logged field that differs; ``None`` stands for "no template"."""
    old = api_values(before) if before is not None else {}
    new = api_values(after) if after is not None else {}
    return [
        FieldChange(name, _text(old.get(name)), _text(new.get(name)))
        for name in LOGGED_FIELDS
        if old.get(name) != new.get(name)
    ]
