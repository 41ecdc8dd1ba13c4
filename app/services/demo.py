"""The demo tenant `make run` serves: stores, a sharing group, three card classes that
upgrade into each other, the brand discount rule of the README's pricing example, one member
with a GOLD card and points to redeem, a year of imported purchase history for a CLV model, two
voucher templates and a voucher of the demo member's, and an admin key. The OpenAPI examples
use its ids, so that /docs' "Try it out" works on it."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TypedDict

from app.crypto import Vault
from app.domain.access import Principal, Scope
from app.domain.card_classes import ClassTerms, OverrideLevel, ShareOverride, Usage, Verification
from app.domain.cards import CardNumberFormat
from app.domain.discount_rules import RuleLine, RuleTerms
from app.domain.errors import NotFound
from app.domain.imports import ImportFormat, OnError
from app.domain.pricing import Level
from app.domain.vouchers import Kind, NewVoucher, Source, Template
from app.services import (
    card_classes,
    cards,
    discount_rules,
    imports,
    member_groups,
    members,
    points,
    voucher_templates,
)
from app.services.access import ensure_demo_tenant, issue_key
from app.uow import UnitOfWork

DEMO_STORES = [
    ("S01", "Nanjing Road flagship", "Asia/Shanghai"),
    ("S02", "Xujiahui mall counter", "Asia/Shanghai"),
    ("B01", "Beijing Wangfujing", "Asia/Shanghai"),
]


class _Serials(TypedDict):
    serial_length: int
    serial_start: int
    serial_end: int


_SERIALS = _Serials(serial_length=7, serial_start=1, serial_end=9_999_999)
DEMO_CLASSES = [  # created in this order: each upgrades into an earlier one
    (
        "DIAMOND",
        ClassTerms(
            name="Diamond",
            usage=Usage.MEMBER,
            prefix="3",
            **_SERIALS,
            validity_months=36,
            verification=Verification.CODE,
            identity_points_multiple=Decimal(2),
            default_discount_rate=Decimal("0.85"),
            sharing_group="STD",
            stack_rate=Decimal("0.95"),
            change_account_enabled=True,
            change_account_limit=Decimal("200"),
        ),
    ),
    (
        "GOLD",
        ClassTerms(
            name="Gold",
            usage=Usage.MEMBER,
            prefix="2",
            **_SERIALS,
            validity_months=24,
            identity_points_multiple=Decimal(1),
            default_discount_rate=Decimal("0.9"),
            sharing_group="STD",
            stack_rate=Decimal("0.95"),
            change_account_enabled=True,
            change_account_limit=Decimal("100"),
            upgrade_to="DIAMOND",
            upgrade_spend_12m=Decimal("20000"),
        ),
    ),
    (
        "NORMAL",
        ClassTerms(
            name="Normal",
            usage=Usage.MEMBER,
            prefix="1",
            **_SERIALS,
            default_discount_rate=Decimal("0.95"),
            sharing_group="STD",
            receipt_open_threshold=Decimal("500"),
            upgrade_to="GOLD",
            upgrade_spend_12m=Decimal("5000"),
        ),
    ),
]
DEMO_MEMBER_REF = "DEMO-0001"
DEMO_GROUP = "ALL-MEMBERS"  # generated: the group the campaign examples target
DEMO_MEMBER_ID = "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10"  # fixed, for the examples' member_id
# A fixed code, so that the examples' voucher exists: the quote, the sale, GET and void use it.
DEMO_VOUCHER_CODE = "X7HF7N6SF9HPRS"
DEMO_TEMPLATES = (  # what the rewards' and 返券 rules' examples offer
    Template("CNY18", "18 CNY off", Kind.AMOUNT_OFF, face_value=Decimal("18.00"), valid_days=30),
    Template("CNY20", "20 CNY off", Kind.AMOUNT_OFF, face_value=Decimal("20.00"), valid_days=30),
)
DEMO_MEMBER_POINTS = 5000  # given once, when the seed creates her: the redemption examples'
# A year of purchases up to HISTORY_END, the CLV model example's calibration end: the demo
# member's few and 40 imported customers', drawn from a fixed seed (BG/NBD-like: a purchase
# rate, a chance to drop out after each purchase, a spend level), a draw both fits converge on.
HISTORY_START, HISTORY_END = date(2025, 10, 1), date(2026, 9, 30)
_HISTORY_SEED, _HISTORY_CUSTOMERS = 2026, 40
_GOLD = dict(DEMO_CLASSES)["GOLD"]
# The demo member's card: the GOLD class's first serial at S01. The seed issues it right after
# it creates the class, so a fresh demo tenant always has this number (S01200000015, Luhn
# check digit 5), which the OpenAPI examples use so that /docs' "Try it out" works on it.
DEMO_CARD_NUMBER = CardNumberFormat(
    _GOLD.prefix, _GOLD.serial_length, _GOLD.check_digit_length, _GOLD.suffix
).compose("S01", _GOLD.serial_start)
# The README's pricing example: GOLD members pay 0.88 for OLAY, stacking on promotions.
DEMO_DISCOUNT_RULE = RuleTerms(
    level=Level.BRAND,
    note="Demo: the README's pricing example",
    entries=(RuleLine("OLAY", "GOLD", Decimal("0.88"), True),),
)


@dataclass(frozen=True)
class DemoTenant:
    tenant_id: str
    admin_key: str
    card_number: str | None  # the demo member's card, when this run issued or found one


async def seed(uow: UnitOfWork, vault: Vault, remembered_key: str | None) -> DemoTenant:
    """Idempotent. Returns an active admin key of the demo tenant (``remembered_key`` if it
    still works, else a new one) and the demo member's card number."""
    tenant, _ = await ensure_demo_tenant(uow)
    seeder = Principal(tenant.id, "seed-demo", "seed-demo", frozenset({Scope.ADMIN}))
    async with uow:
        for code, name, zone in DEMO_STORES:
            if await uow.stores.get(tenant.id, code) is None:
                await uow.stores.add(tenant.id, code, name, zone)
        principal = await uow.reads.principal(remembered_key) if remembered_key else None
        works = principal is not None and principal.tenant_id == tenant.id
        key = remembered_key if works else None
        if key is None:
            key = (await issue_key(uow, tenant.id, "demo", (Scope.ADMIN,))).secret
        has_group = await uow.sharing_groups.get(tenant.id, "STD") is not None
        missing = [
            (code, terms)
            for code, terms in DEMO_CLASSES
            if await uow.card_classes.get(tenant.id, code) is None
        ]
        await uow.commit()
    if not has_group:
        brand = ShareOverride(OverrideLevel.BRAND, "OLAY", Decimal("0.3"))
        await card_classes.create_sharing_group(
            uow, seeder, "STD", "Standard split", Decimal("0.5"), (brand,)
        )
    for code, terms in missing:
        await card_classes.create_card_class(uow, seeder, code, terms)
    await _demo_discount_rule(uow, seeder)
    card_number = await _demo_card(uow, vault, seeder)
    await _demo_history(uow, seeder)
    await _demo_member_group(uow, seeder)
    await _demo_vouchers(uow, seeder)
    return DemoTenant(tenant.id, key, card_number)


async def _demo_vouchers(uow: UnitOfWork, seeder: Principal) -> None:
    for template in DEMO_TEMPLATES:
        async with uow:
            found = await uow.vouchers.template(seeder.tenant_id, template.code)
        if found is None:
            await voucher_templates.create_template(uow, seeder, template)
    async with uow:
        if await uow.vouchers.get(seeder.tenant_id, DEMO_VOUCHER_CODE) is None:
            now = datetime.now(UTC)
            voucher = NewVoucher(
                DEMO_VOUCHER_CODE,
                "CNY18",
                DEMO_MEMBER_ID,
                now,
                now + timedelta(days=365),
                Source.MANUAL,
                "demo",
            )
            await uow.vouchers.issue(seeder.tenant_id, [voucher])
            await uow.commit()


def demo_history() -> list[tuple[str, str, str, str]]:
    """(member_ref, occurred_at, amount, receipt_no) rows, the same on every call."""
    rng = random.Random(_HISTORY_SEED)
    rows = [  # the demo member's own, so that an RFM run scores her
        (DEMO_MEMBER_REF, on, amount, f"{DEMO_MEMBER_REF}-{n}")
        for n, (on, amount) in enumerate(
            [("2026-03-08", "268.00"), ("2026-06-18", "459.00"), ("2026-09-12", "188.00")], 1
        )
    ]
    for i in range(1, _HISTORY_CUSTOMERS + 1):
        ref = f"DEMO-H{i:03d}"
        day = rng.randrange(0, 200)
        rate = rng.gammavariate(2.0, 1 / 40)  # purchases a day
        drop = rng.betavariate(1.0, 3.0)
        spend = rng.gammavariate(6.0, 40.0)
        n = 0
        while day <= (HISTORY_END - HISTORY_START).days:
            n += 1
            on = (HISTORY_START + timedelta(days=day)).isoformat()
            rows.append((ref, on, f"{rng.gammavariate(3.0, spend / 3):.2f}", f"{ref}-{n}"))
            if rng.random() < drop:
                break
            day += max(1, round(rng.expovariate(rate)))
    return rows


async def _demo_history(uow: UnitOfWork, seeder: Principal) -> None:
    """Imports demo_history(); a second seed's rows are duplicates (same receipts): a no-op."""

    async def body() -> AsyncIterator[bytes]:
        yield b"member_ref,occurred_at,amount,receipt_no\n"
        yield "".join(",".join(row) + "\n" for row in demo_history()).encode()

    await imports.import_transactions(
        uow,
        seeder,
        body(),
        fmt=ImportFormat.CSV,
        on_error=OnError.REJECT,
        gzipped=False,
        now=datetime.now(UTC),
    )


async def _demo_member_group(uow: UnitOfWork, seeder: Principal) -> None:
    """A generated group of every member (DEMO_GROUP): the campaign examples target it."""
    try:
        await member_groups.get_group(uow, seeder, DEMO_GROUP)
    except NotFound:
        await member_groups.create_group(uow, seeder, DEMO_GROUP, "Every member", {})
        await member_groups.generate(uow, seeder, DEMO_GROUP, datetime.now(UTC))


async def _demo_discount_rule(uow: UnitOfWork, seeder: Principal) -> None:
    """Creates and approves DEMO_DISCOUNT_RULE unless a document (of any status) already sets
    OLAY for GOLD: a demo admin who edited or voided it keeps that choice."""
    entry = DEMO_DISCOUNT_RULE.entries[0]
    found = await discount_rules.list_discount_rules(
        uow,
        seeder,
        status=None,
        level=DEMO_DISCOUNT_RULE.level,
        card_class=entry.card_class,
        target=entry.target,
        cursor=None,
        limit=1,
    )
    if not found.items:
        draft = await discount_rules.create_discount_rule(uow, seeder, DEMO_DISCOUNT_RULE)
        await discount_rules.approve_discount_rule(uow, seeder, str(draft.id))


async def _demo_card(uow: UnitOfWork, vault: Vault, seeder: Principal) -> str | None:
    found = await members.list_members(
        uow, vault, seeder, phone=None, external_ref=DEMO_MEMBER_REF, cursor=None, limit=1
    )
    if found.items:
        member_id = found.items[0].id
    else:
        member = await members.create_member(
            uow,
            vault,
            seeder,
            {
                "external_ref": DEMO_MEMBER_REF,
                "name": "王芳",
                "phone": "13812345678",
                "gender": "female",
                "region": "上海",
                "source_channel": "store",
                "tags": ["demo"],
                "marketing_consent": True,
            },
            member_id=DEMO_MEMBER_ID,
        )
        member_id = member.id
        await points.adjust(
            uow,
            seeder,
            member_id=member_id,
            points=DEMO_MEMBER_POINTS,
            reason="demo: a starting balance to redeem",
            now=datetime.now(UTC),
        )
    existing = await cards.list_cards(uow, seeder, member_id, None, 1)
    if existing.items:
        return existing.items[0].number
    issued = await cards.issue_card(uow, cards.CardKit(vault), seeder, "GOLD", "S01", member_id)
    return issued.card.number
