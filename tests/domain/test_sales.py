"""The sale and return decisions (app/domain/sales.py) without a database: the worked
examples, every refusal, the drift cases (a till clock running fast, an old offline sale), and
properties over random sequences of sales, returns and redemptions applied to an in-memory
ledger that must always add up."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from app.domain.card_classes import CardClass, Usage
from app.domain.card_lifecycle import CardStatus
from app.domain.errors import Conflict, Invalid, NotFound
from app.domain.ledger import Decided, Recorded
from app.domain.points import (
    Category,
    ExpiryKind,
    ExpiryPolicy,
    Payment,
    PaymentMethod,
    ReturnLine,
)
from app.domain.points_ledger import PointsSettings
from app.domain.points_rules import PointsRules
from app.domain.points_writes import MemberPoints, decide_redemption
from app.domain.pricing import RuleIndex
from app.domain.sales import (
    MAX_CLOCK_SKEW,
    RETURN_LOTS,
    SALE_LOTS,
    MemberCard,
    ReturnContext,
    ReturnRequest,
    SaleContext,
    SaleLimits,
    SaleRequest,
    SaleTerms,
    Stored,
    StoredSale,
    TillLine,
    decide_return,
    decide_sale,
    sale_fingerprint,
    sale_limits,
)
from tests.domain.conftest import MEMBER, NOW, SHANGHAI, TENANT, MemberBook, card

CASH, POINTS, CHANGE = PaymentMethod.CASH, PaymentMethod.POINTS, PaymentMethod.CHANGE_ACCOUNT


def klass(code="GOLD", **terms) -> CardClass:
    values = {
        "tenant_id": TENANT,
        "code": code,
        "name": code,
        "usage": Usage.MEMBER,
        "serial_length": 6,
        "serial_start": 1,
        "serial_end": 999_999,
        "next_serial": 2,
        "created_at": NOW,
        "updated_at": NOW,
        "default_points_rate": Decimal("0.1"),
        "identity_points_multiple": Decimal("1"),
        **terms,
    }
    return CardClass(**values)


def terms(*classes: CardClass, limits=SaleLimits(), **points_settings) -> SaleTerms:
    return SaleTerms(
        rules=PointsRules(RuleIndex.build([]), (), ()),
        settings=PointsSettings(**points_settings),
        classes={c.code: c for c in classes or (klass(),)},
        limits=limits,
    )


def request(receipt="R-1", amounts=("388.00",), payments=None, at=NOW, **extra) -> SaleRequest:
    lines = tuple(
        TillLine(i, f"SKU{i}", Decimal(1), Decimal(amount)) for i, amount in enumerate(amounts, 1)
    )
    if payments is None:
        payments = ((CASH, sum((x.final_amount for x in lines), Decimal(0))),)
    return SaleRequest(
        store_code="S01",
        receipt_no=receipt,
        card_number="S01G0000019",
        occurred_at=at,
        lines=lines,
        payments=tuple(Payment(m, Decimal(a)) for m, a in payments),
        **extra,
    )


def context(book: MemberBook, *, now=NOW, **extra) -> SaleContext:
    values = {
        "tenant_id": TENANT,
        "actor": "till-1",
        "time_zone": SHANGHAI,
        "store_exists": True,
        "recorded": None,
        "card": card(),
        "birthday": None,
        "groups": frozenset(),
        "holdings": book.holdings(now),
        "change_balance": book.change,
        "spend_12m": sum((a for at, a in book.spend if at > now - timedelta(days=366)), Decimal(0)),
        "member_cards": (),
        "sale_id": book.allocate(1)[0],
        "lot_ids": book.allocate(SALE_LOTS),
        "change_entry_id": None,
        **extra,
    }
    return SaleContext(**values)


def sell(book: MemberBook, sale: SaleRequest, sale_terms=None, now=NOW, **extra) -> dict:
    decided = decide_sale(context(book, now=now, **extra), sale, sale_terms or terms(), now)
    assert isinstance(decided, Decided)
    assert book.apply(decided.plan)
    assert book.problems(now) == []
    return decided.result.body


# --- a sale ---------------------------------------------------------------------------------


def test_a_cash_sale_earns_a_and_e_in_lots_of_its_own():
    book = MemberBook()
    ctx = context(book)
    decided = decide_sale(ctx, request(), terms(), NOW)
    plan, answer = decided.plan, decided.result
    assert answer == Recorded(201, answer.body, replayed=False)
    body = answer.body
    assert body["points_earned"] == {"A": 38, "B": 0, "C": 0, "E": 38}  # floor(388 × 0.1)
    assert (body["balance"], body["available"], body["pending"], body["points_spent"]) == (
        76,
        76,
        0,
        0,
    )
    assert [(lot.id, lot.category, lot.points) for lot in plan.points.lots] == [
        (ctx.lot_ids[0], Category.A, 38),
        (ctx.lot_ids[3], Category.E, 38),
    ]
    assert plan.sale.detail["lots"] == {"A": ctx.lot_ids[0], "E": ctx.lot_ids[3]}
    assert plan.sale.response == body and plan.sale.id == body["sale_id"] == ctx.sale_id
    assert plan.sale.fingerprint == sale_fingerprint(request())
    assert [(s.amount, s.source_ref) for s in plan.spend] == [(Decimal("388.00"), "S01/R-1")]
    assert plan.points.version == 0 and plan.change is None and plan.tiers == ()
    assert book.apply(plan) and book.problems(NOW) == []


def test_the_same_receipt_replays_and_other_content_conflicts():
    first = sell(MemberBook(), request())
    stored = Stored(first["sale_id"], sale_fingerprint(request()), first)
    book = MemberBook()
    again = decide_sale(context(book, recorded=stored), request(), terms(), NOW)
    assert again == Recorded(200, first, replayed=True)
    # The same content written differently (388.0 for 388.00) is the same sale.
    same = request(amounts=("388.0",), payments=((CASH, "388.0"),))
    assert decide_sale(context(book, recorded=stored), same, terms(), NOW).replayed
    with pytest.raises(Conflict) as refused:
        decide_sale(context(book, recorded=stored), request(amounts=("1.00",)), terms(), NOW)
    # The problem's extension carries the id as the API shows ids: an opaque string.
    assert (refused.value.code, refused.value.extra["sale_id"]) == (
        "receipt_conflict",
        str(first["sale_id"]),
    )


@pytest.mark.parametrize(
    ("sale", "extra", "code"),
    [
        (request(payments=((CASH, "300.00"),)), {}, "payments_mismatch"),
        (request(at=NOW + MAX_CLOCK_SKEW + timedelta(microseconds=1)), {}, "occurred_in_future"),
        (request(amounts=("1000000.01",)), {}, "line_amount_over_limit"),
        (request(amounts=("999999.99",) * 6), {}, "receipt_amount_over_limit"),
        (request(), {"card": None}, "card_not_found"),
        (request(), {"card": card(status=CardStatus.FROZEN)}, "card_frozen"),
        (request(), {"card": card(expires_at=NOW)}, "card_expired"),
        (request(), {"store_exists": False}, "store_not_found"),
        (request(amounts=("1.001",), payments=((CASH, "1.001"),)), {}, "invalid_amount"),
        (request(payments=((CASH, "387.99"), (POINTS, "0.01"))), {}, "insufficient_points"),
        (request(payments=((CHANGE, "388.00"),)), {}, "change_account_disabled"),
    ],
)
def test_refusals_write_nothing(sale, extra, code):
    book = MemberBook()
    with pytest.raises((Invalid, Conflict)) as refused:
        decide_sale(context(book, **extra), sale, terms(), NOW)
    assert refused.value.code == code


def test_paying_with_points_spends_the_oldest_available_lots_first():
    book = MemberBook()
    sell(book, request("R-OLD", at=NOW - timedelta(days=40)), now=NOW - timedelta(days=40))
    sell(book, request("R-NEW", at=NOW - timedelta(days=1)), now=NOW - timedelta(days=1))
    old_a, old_e, new_a, new_e = sorted(book.lots.values(), key=lambda x: int(x.id))
    too_much = ((CASH, "386.00"), (POINTS, "2.00"))  # 200 points at 100 per CNY
    with pytest.raises(Conflict) as refused:
        decide_sale(context(book), request("R-PTS", payments=too_much), terms(), NOW)
    assert (refused.value.code, refused.value.extra) == (
        "insufficient_points",
        {"requested": 200, "available": 152, "shortfall": 48},
    )
    paid = ((CASH, "387.00"), (POINTS, "1.00"))  # 100 points
    body = sell(book, request("R-PTS", payments=paid))
    assert (body["points_spent"], body["points_earned"]["A"]) == (100, 38)  # 387 earns 38
    left = {lot: book.lots[lot.id].points_left for lot in (old_a, old_e, new_a, new_e)}
    assert list(left.values()) == [0, 0, 14, 38]  # oldest first: 38 + 38 + 24
    assert (book.totals[Category.R], body["balance"]) == (-100, 152 - 100 + 76)
    with pytest.raises(Invalid) as refused:
        decide_sale(
            context(book),
            request("R-ODD", payments=((CASH, "387.99"), (POINTS, "0.01"))),
            terms(points_per_yuan=50),
            NOW,
        )
    assert (refused.value.code, refused.value.errors[0].field) == (
        "points_payment_not_whole",
        "payments[1].amount",
    )


def test_due_lots_expire_first_and_an_old_offline_sales_lots_at_once():
    yearly = terms(expiry=ExpiryPolicy(ExpiryKind.ROLLING_MONTHS, 12))
    book = MemberBook()
    earned_at = NOW - timedelta(days=400)
    sell(book, request("R-1", at=earned_at), yearly, now=earned_at)
    assert book.balance == 76
    # Recorded today, the offline sale of 400 days ago earns and expires in one plan.
    offline = sell(book, request("R-2", at=earned_at), yearly)
    assert (offline["balance"], offline["points_earned_total"]) == (0, 76)
    assert (book.totals[Category.X], book.balance) == (-152, 0)
    assert all(lot.points_left == 0 for lot in book.lots.values())


def test_pending_days_hold_the_points_earned():
    book = MemberBook()
    body = sell(book, request(), terms(pending_days=7))
    assert (body["balance"], body["available"], body["pending"]) == (76, 0, 76)


def test_a_fast_clock_within_the_skew_counts_towards_the_tier_at_once():
    chain = (
        klass("NORMAL", upgrade_to="GOLD", upgrade_spend_12m=Decimal("5000")),
        klass("GOLD", upgrade_to="DIAMOND", upgrade_spend_12m=Decimal("20000")),
        klass("DIAMOND"),
    )
    mine = MemberCard("S01G0000019", "NORMAL", CardStatus.ACTIVE, None)
    other = MemberCard("S01G0000027", "NORMAL", CardStatus.FROZEN, None)
    expired = MemberCard("S01G0000035", "NORMAL", CardStatus.ACTIVE, NOW)
    ahead = NOW + timedelta(minutes=3)
    book = MemberBook()
    sale = request(amounts=("5200.00",), at=ahead)
    decided = decide_sale(
        context(book, card=card(klass="NORMAL"), member_cards=(mine, other, expired)),
        sale,
        terms(*chain),
        NOW,
    )
    assert decided.result.body["tier_change"] == {"from": "NORMAL", "to": "GOLD"}
    assert [(m.number, m.to_class) for m in decided.plan.tiers] == [
        ("S01G0000019", "GOLD"),
        ("S01G0000027", "GOLD"),  # every usable card of the member moves, frozen too
    ]
    # Far enough over every threshold: both steps, one card event each.
    big = request(amounts=("30000.00",))
    decided = decide_sale(
        context(book, card=card(klass="NORMAL"), member_cards=(mine,)), big, terms(*chain), NOW
    )
    (move,) = decided.plan.tiers
    assert move.steps == (("NORMAL", "GOLD"), ("GOLD", "DIAMOND"))
    assert move.reasons[0].startswith("12-month spend 30000.00 reached 5000.00")
    # Spend of more than 12 months ago does not count; a sale of 13 months ago neither.
    stale = request(amounts=("5200.00",), at=NOW - timedelta(days=400))
    decided = decide_sale(
        context(book, card=card(klass="NORMAL"), member_cards=(mine,)), stale, terms(*chain), NOW
    )
    assert decided.plan.tiers == () and decided.result.body["tier_change"] is None


def test_a_change_account_payment_is_taken_in_the_same_plan():
    offering = klass(change_account_enabled=True, change_account_limit=Decimal("50"))
    book = MemberBook(change=Decimal("20.00"))
    paid = ((CASH, "370.00"), (CHANGE, "18.00"))
    decided = decide_sale(context(book), request(payments=paid), terms(offering), NOW)
    change = decided.plan.change
    assert (change.balance, change.amount, change.balance_after) == (
        Decimal("20.00"),
        Decimal("-18.00"),
        Decimal("2.00"),
    )
    # 18.00 is not eligible: A = floor(370 × 0.1) = 37.
    assert decided.result.body["points_earned"]["A"] == 37
    with pytest.raises(Conflict) as refused:
        decide_sale(context(book), request(payments=((CHANGE, "388.00"),)), terms(offering), NOW)
    assert refused.value.code == "insufficient_change_balance"


def test_sale_limits_are_checked_when_set():
    assert sale_limits(Decimal("100"), Decimal("150.5")) == SaleLimits(
        Decimal("100.00"), Decimal("150.50")
    )
    for line, receipt in [("0", "1"), ("1", "-1"), ("1.001", "1"), ("1", "1000000000.01")]:
        with pytest.raises(Invalid) as refused:
            sale_limits(Decimal(line), Decimal(receipt))
        assert refused.value.code == "invalid_sale_limits"


# --- a return -------------------------------------------------------------------------------


def returning(book: MemberBook, sold: dict, detail: dict, returned: dict, **extra):
    values = {
        "tenant_id": TENANT,
        "time_zone": SHANGHAI,
        "sale": StoredSale(sold["sale_id"], "S01", "R-1", MEMBER, "S01G0000019", detail, returned),
        "recorded": None,
        "holdings": book.holdings(NOW),
        "change_balance": book.change,
        "return_id": book.allocate(1)[0],
        "lot_ids": book.allocate(RETURN_LOTS),
        **extra,
    }
    return ReturnContext(**values)


def test_partial_returns_claw_back_exactly_what_was_earned():
    book = MemberBook()
    ctx = context(book)
    sold = decide_sale(ctx, request(amounts=("100.00",)), terms(), NOW)
    assert book.apply(sold.plan)
    detail, returned = sold.plan.sale.detail, {}
    backs = []
    for n, qty in enumerate(("0.4", "0.3", "0.3"), 1):
        back = ReturnRequest("S01", "R-1", f"RT-{n}", (ReturnLine(1, Decimal(qty)),))
        decided = decide_return(
            returning(book, sold.result.body, detail, returned), back, PointsSettings(), NOW
        )
        assert book.apply(decided.plan) and book.problems(NOW) == []
        returned = decided.plan.sale_return.returned
        backs.append(decided.result.body["points_clawed_back"])
    assert sum(b["A"] for b in backs) == 10 and sum(b["E"] for b in backs) == 10
    assert book.balance == 0 and returned == {"1": "1.00"}


def test_a_short_balance_is_refused_or_bought():
    book = MemberBook()
    sold = decide_sale(context(book), request(), terms(), NOW)
    assert book.apply(sold.plan)
    spend = MemberPoints(
        TENANT,
        SHANGHAI,
        PointsSettings(),
        MEMBER,
        None,
        book.holdings(NOW),
        None,
        book.allocate(1)[0],
    )
    redeemed = decide_redemption(
        spend,
        card_number=None,
        member_id=MEMBER,
        points=70,
        purpose="gift",
        reference=None,
        now=NOW,
    )
    assert book.apply(redeemed.plan) and book.balance == 6
    back = ReturnRequest("S01", "R-1", "RT-1", (ReturnLine(1, Decimal(1)),))
    ctx = returning(book, sold.result.body, sold.plan.sale.detail, {})
    with pytest.raises(Conflict) as refused:
        decide_return(ctx, back, PointsSettings(), NOW)
    assert (refused.value.code, refused.value.extra["shortfall"]) == (
        "insufficient_points_for_return",
        70,
    )
    price = PointsSettings(point_price=Decimal("0.015"))
    decided = decide_return(ctx, replace_mode(back, "purchase"), price, NOW)
    assert (decided.result.body["points_purchased"], decided.result.body["money_due"]) == (
        70,
        "1.05",
    )
    assert book.apply(decided.plan) and book.problems(NOW) == [] and book.balance == 0


def replace_mode(back: ReturnRequest, mode: str) -> ReturnRequest:
    return ReturnRequest(back.store_code, back.receipt_no, back.return_no, back.lines, mode)


def test_a_return_of_an_unknown_sale_or_a_replayed_return():
    book = MemberBook()
    back = ReturnRequest("S01", "R-1", "RT-1", (ReturnLine(1, Decimal(1)),))
    with pytest.raises(NotFound):
        decide_return(
            returning(book, {"sale_id": 1}, {}, {}, sale=None), back, PointsSettings(), NOW
        )
    sold = decide_sale(context(book), request(), terms(), NOW)
    book.apply(sold.plan)
    first = decide_return(
        returning(book, sold.result.body, sold.plan.sale.detail, {}), back, PointsSettings(), NOW
    )
    stored = Stored(7, first.plan.sale_return.fingerprint, first.result.body)
    ctx = returning(book, sold.result.body, sold.plan.sale.detail, {}, recorded=stored)
    assert decide_return(ctx, back, PointsSettings(), NOW) == Recorded(200, first.result.body, True)
    other = ReturnRequest("S01", "R-1", "RT-1", (ReturnLine(1, Decimal("0.5")),))
    with pytest.raises(Conflict) as refused:
        decide_return(ctx, other, PointsSettings(), NOW)
    assert refused.value.code == "return_conflict"


# --- the ledger always adds up ----------------------------------------------------------------

amounts = st.integers(1, 200_000).map(lambda fen: f"{fen / 100:.2f}")


class SalesAndReturns(RuleBasedStateMachine):
    """Sales (cash, partly points, partly change), partial returns and redemptions of one
    member, decided on what an in-memory database answers and applied to it; a decision made
    on a stale read is never applied (its version no longer matches)."""

    def __init__(self) -> None:
        super().__init__()
        self.book = MemberBook(change=Decimal("100000.00"))
        self.now = NOW
        self.terms = terms(
            klass(change_account_enabled=True, change_account_limit=Decimal("100000")),
            pending_days=3,
            expiry=ExpiryPolicy(ExpiryKind.ROLLING_MONTHS, 1),
        )
        self.sales: list[tuple[dict, dict, dict]] = []  # body, detail, returned
        self.earned = 0
        self.clawed = 0
        self.receipts = 0

    @rule(
        lines=st.lists(amounts, min_size=1, max_size=4),
        method=st.sampled_from([CASH, POINTS, CHANGE]),
    )
    def sell(self, lines, method):
        self.receipts += 1
        total = sum(Decimal(x) for x in lines)
        share = (total / 4).quantize(Decimal("0.01"))
        payments = ((CASH, total - share), (method, share))
        sale = request(f"R-{self.receipts}", tuple(lines), payments, at=self.now)
        try:
            decided = decide_sale(context(self.book, now=self.now), sale, self.terms, self.now)
        except Conflict as refused:
            assert refused.code == "insufficient_points" and method is POINTS
            return
        assert self.book.apply(decided.plan)
        self.sales.append((decided.result.body, decided.plan.sale.detail, {}))
        self.earned += decided.result.body["points_earned_total"]

    @precondition(lambda self: self.sales)
    @rule(data=st.data())
    def give_back(self, data):
        i = data.draw(st.integers(0, len(self.sales) - 1))
        body, detail, returned = self.sales[i]
        line = data.draw(st.sampled_from(detail["lines"]))
        left = Decimal(line["qty"]) - Decimal(returned.get(str(line["line_no"]), "0"))
        if left <= 0:
            return
        qty = data.draw(st.sampled_from([left, (left / 2).quantize(Decimal("0.001"))]))
        if qty <= 0:
            return
        self.receipts += 1
        back = ReturnRequest(
            "S01", body["receipt_no"], f"RT-{self.receipts}", (ReturnLine(line["line_no"], qty),)
        )
        ctx = returning(self.book, body, detail, returned)
        decided = decide_return(ctx, replace_mode(back, "purchase"), self.terms.settings, self.now)
        assert self.book.apply(decided.plan)
        self.sales[i] = (body, detail, decided.plan.sale_return.returned)
        self.clawed += sum(decided.result.body["points_clawed_back"].values())

    @rule(points=st.integers(1, 500))
    def redeem(self, points):
        self.receipts += 1
        ctx = MemberPoints(
            TENANT,
            SHANGHAI,
            self.terms.settings,
            MEMBER,
            None,
            self.book.holdings(self.now),
            None,
            self.receipts,
        )
        try:
            decided = decide_redemption(
                ctx,
                card_number=None,
                member_id=MEMBER,
                points=points,
                purpose="gift",
                reference=None,
                now=self.now,
            )
        except Conflict:
            return
        assert self.book.apply(decided.plan)

    @rule(days=st.integers(1, 40))
    def time_passes(self, days):
        self.now += timedelta(days=days)

    @rule()
    def a_stale_plan_is_not_applied(self):
        self.receipts += 1
        stale = context(self.book, now=self.now)
        sale = request(f"R-{self.receipts}", ("10.00",), at=self.now)
        first = decide_sale(stale, sale, self.terms, self.now)
        second = decide_sale(
            stale, request(f"R-{self.receipts}b", at=self.now), self.terms, self.now
        )
        assert self.book.apply(first.plan)
        assert not self.book.apply(second.plan)
        self.sales.append((first.result.body, first.plan.sale.detail, {}))
        self.earned += first.result.body["points_earned_total"]

    @invariant()
    def the_ledger_adds_up(self):
        assert self.book.problems(self.now) == []
        assert 0 <= self.clawed <= self.earned


TestSalesAndReturns = SalesAndReturns.TestCase
TestSalesAndReturns.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
