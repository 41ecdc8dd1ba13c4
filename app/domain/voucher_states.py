"""A voucher's life after issue (docs/domain §12): issued → redeemed | expired | voided. Pure.

The database keeps ``issued`` until the daily job (or a redemption, or a void) moves it on; a
voucher past its ``valid_to`` is *shown* as expired from that instant, whether or not the job
has run yet, and can no longer be voided or used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.vouchers import Source, Status, Template


@dataclass(frozen=True)
class Redemption:
    """The sale that paid with the voucher."""

    store_code: str | None
    receipt_no: str | None
    amount: Decimal | None
    redeemed_at: datetime
    sale_id: int | None


@dataclass(frozen=True)
class VoucherRecord:
    """A voucher as stored, with its template's ``bearer``."""

    code: str
    template: str
    stored_status: Status
    member_id: str  # the holder
    bearer: bool
    valid_from: datetime
    valid_to: datetime
    source: Source
    reference: str | None
    campaign: str | None
    issued_at: datetime
    redemption: Redemption | None
    voided_at: datetime | None
    void_reason: str | None

    def status(self, now: datetime) -> Status:
        return shown_status(self.stored_status, self.valid_to, now)


def shown_status(stored: Status, valid_to: datetime, now: datetime) -> Status:
    """``issued`` past its validity is expired (valid_to is exclusive)."""
    if stored is Status.ISSUED and valid_to <= now:
        return Status.EXPIRED
    return stored


def not_found(code: str) -> NotFound:
    """The one answer for a code that names no voucher of the caller's tenant, whether it
    never existed or is another tenant's: nothing is learnt about other tenants."""
    return NotFound("voucher_not_found", "No voucher {voucher_code}.", voucher_code=code)


def holder_of(member_id: str | None, card_number: str | None, card_holder: str | None) -> str:
    """The member a request names: the card's holder (``card_holder``, None when there is no
    such card) when a card is given, else ``member_id``."""
    if card_number is None:
        if member_id is None:
            raise Invalid(
                "card_or_member_required", "Give card_number or member_id.", field="card_number"
            )
        return member_id
    if card_holder is None:
        raise Invalid(
            "card_not_found", "No card {card_number}.", field="card_number", card_number=card_number
        )
    if member_id is not None and member_id != card_holder:
        raise Invalid(
            "card_member_mismatch", "The card belongs to another member.", field="member_id"
        )
    return card_holder


def check_issue(template: Template, held: int, valid_to: datetime, now: datetime) -> None:
    """A manual issue: within the template's ``per_member_limit`` (``held``: the member's
    vouchers of it, voided ones aside) and not a voucher dead on arrival."""
    limit = template.per_member_limit
    if limit is not None and held >= limit:
        raise Conflict(
            "voucher_limit_reached",
            "The member already holds {held} voucher(s) of {template}, its per-member limit.",
            field="template",
            held=held,
            template=template.code,
        )
    if valid_to <= now:
        raise Conflict(
            "voucher_template_ended",
            "Template {template}'s window ended at {valid_to}; a voucher would be born expired.",
            field="template",
            template=template.code,
            valid_to=valid_to.isoformat(),
        )


def refuse_void(record: VoucherRecord, now: datetime) -> Conflict:
    """Why a found voucher was not voided: only an ``issued`` one, still valid, can be."""
    return Conflict(
        "voucher_not_voidable",
        "Voucher {voucher_code} is {status}; only an issued voucher can be voided.",
        voucher_code=record.code,
        status=record.status(now).value,
    )
