"""Members (会员) and the rules protecting their personal information.

Phone numbers and birthdays are personal information: the API shows them in full only to
scopes that serve the member themselves (``admin``, ``app``); everyone else, and every
list, sees the phone masked and no birthday.

Phone rule: spaces and dashes are removed; a mainland mobile (``1[3-9]`` + 9 digits, with
an optional ``+86``) is kept as its 11 digits; any other number must be E.164
(``+``, a non-zero digit, 8-15 digits in all) and keeps its ``+``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from app.domain.access import Scope
from app.domain.errors import Conflict, Invalid

MAINLAND_MOBILE = re.compile(r"(?:\+86)?(1[3-9][0-9]{9})")
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
_SEPARATORS = re.compile(r"[\s-]")
EARLIEST_BIRTHDAY = date(1900, 1, 1)
FULL_VIEW_SCOPES = frozenset({Scope.ADMIN, Scope.APP})


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Consent:
    marketing: bool
    updated_at: datetime | None  # when the member last gave or withdrew it


@dataclass(frozen=True)
class Member:
    id: str
    tenant_id: str
    external_ref: str | None
    name: str | None
    phone: str | None
    birthday: date | None
    gender: Gender
    region: str | None
    occupation: str | None
    source_channel: str | None
    tags: tuple[str, ...]
    consent: Consent
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None


def normalize_phone(raw: str, field: str = "phone") -> str:
    compact = _SEPARATORS.sub("", raw)
    if mainland := MAINLAND_MOBILE.fullmatch(compact):
        return mainland.group(1)
    if E164.fullmatch(compact):
        return compact
    raise Invalid(
        "invalid_phone",
        "A phone is a mainland mobile (1[3-9] and 9 digits, optional +86) "
        "or an E.164 number (+ and 8-15 digits).",
        field=field,
    )


def mask_phone(phone: str) -> str:
    """``138****5678`` for an 11-digit mobile; otherwise the first 3 and last 2 characters."""
    keep_end = 4 if len(phone) == 11 else 2
    if len(phone) <= 3 + keep_end:
        return "*" * len(phone)  # too short to reveal anything
    return phone[:3] + "*" * (len(phone) - 3 - keep_end) + phone[-keep_end:]


def check_birthday(value: date, today: date) -> date:
    if not EARLIEST_BIRTHDAY <= value <= today:
        raise Invalid(
            "invalid_birthday",
            "A birthday lies between {earliest_birthday} and today.",
            field="birthday",
            earliest_birthday=EARLIEST_BIRTHDAY.isoformat(),
        )
    return value


def sees_full_profile(scopes: frozenset[Scope]) -> bool:
    return bool(scopes & FULL_VIEW_SCOPES)


def masked(member: Member) -> Member:
    """The view for lists and for scopes that don't serve the member directly."""
    phone = mask_phone(member.phone) if member.phone else None
    return dataclasses.replace(member, phone=phone, birthday=None)


def _clean(fields: dict, today: date | None) -> dict:
    """Normalise profile fields given by a client. ``today`` is needed if a birthday is set."""
    out = dict(fields)
    if out.get("phone") is not None:
        out["phone"] = normalize_phone(out["phone"])
    if out.get("birthday") is not None:
        check_birthday(out["birthday"], today)
    if "tags" in out:
        out["tags"] = tuple(dict.fromkeys(out["tags"]))  # deduplicated, first-seen order
    return out


def new_profile(fields: dict, today: date | None, now: datetime) -> dict:
    """Fields of a new member. A consent given at sign-up is stamped, even a refusal."""
    out = _clean(fields, today)
    marketing = out.pop("marketing_consent", None)
    out["consent"] = Consent(False, None) if marketing is None else Consent(marketing, now)
    return out


def revision(member: Member, fields: dict, today: date | None, now: datetime) -> dict:
    """The changes a PATCH makes. Consent is re-stamped only when its value changes."""
    if member.erased_at is not None:
        raise Conflict("member_erased", "This member's personal data has been erased.")
    out = _clean(fields, today)
    if "marketing_consent" in out:
        marketing = out.pop("marketing_consent")
        if marketing != member.consent.marketing:
            out["consent"] = Consent(marketing, now)
    return out


def erasure(member: Member, now: datetime) -> dict:
    """The changes that erase a member: personal fields blanked, the id kept (the ledger
    refers to it). Gender counts as personal; the source channel does not."""
    blank = {
        "external_ref": None,
        "name": None,
        "phone": None,
        "birthday": None,
        "gender": Gender.UNKNOWN,
        "region": None,
        "occupation": None,
        "tags": (),
        "marketing_consent": False,
    }
    return {**revision(member, blank, None, now), "erased_at": now}
