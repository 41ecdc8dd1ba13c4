"""Vouchers at the till, pure: applicability, combination order, allocation in fen, who bears
the cost, 返券 counts and what a return deducts (docs/domain §12)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from app.domain.card_classes import OverrideLevel, ShareOverride, SharingGroup
from app.domain.sale_vouchers import return_vouchers
from app.domain.sales import TillLine
from app.domain.voucher_till import (
    KIND_ORDER,
    BasketLine,
    Reason,
    Redeemer,
    apply_vouchers,
    earned_count,
    replay_discounts,
)
from app.domain.vouchers import Kind, OnReturn, Scope, Status, Template, Voucher, VoucherRule

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)
WHO = Redeemer("S01", "GOLD", "m1")
D = Decimal


def goods(no: int, amount: str, **attrs) -> BasketLine:
    return BasketLine(TillLine(no, f"SKU{no}", D(1), D(amount), **attrs), D(amount))


def voucher(code: str, template: str, **fields) -> Voucher:
    values = {
        "status": Status.ISSUED,
        "holder": "m1",
        "valid_from": NOW - timedelta(days=1),
        "valid_to": NOW + timedelta(days=1),
        **fields,
    }
    return Voucher(code, template, **values)


AMOUNT18 = Template("V18", "18 off", Kind.AMOUNT_OFF, face_value=D("18.00"))
M200 = Template(
    "M200", "满200减20", Kind.THRESHOLD_AMOUNT_OFF, face_value=D("20.00"), min_spend=D("200.00")
)
P9 = Template("P9", "9折", Kind.PERCENT_OFF, rate=D("0.9"), max_discount=D("50.00"))
TEMPLATES = {t.code: t for t in (AMOUNT18, M200, P9)}


def run(codes, found, lines, who=WHO, groups=None, templates=TEMPLATES):
    return apply_vouchers(codes, found, templates, lines, who, groups or {}, NOW)


def test_the_seed_voucher_takes_18_off_spread_over_the_lines_in_fen():
    [out] = run(["A"], {"A": voucher("A", "V18")}, [goods(1, "100.00"), goods(2, "33.33")])
    assert out.applied and out.amount == D("18.00")
    assert out.discount is not None
    assert dict(out.discount.shares) == {1: D("13.50"), 2: D("4.50")}
    assert (out.discount.store_borne, out.discount.supplier_borne) == (D("18.00"), D("0.00"))


def test_percent_off_first_then_thresholds_then_amounts():
    found = {c: voucher(c, t) for c, t in (("A", "V18"), ("M", "M200"), ("P", "P9"))}
    lines = [goods(1, "150.00"), goods(2, "50.00")]
    outs = {o.code: o for o in run(["A", "M", "P"], found, lines)}
    assert outs["P"].amount == D("20.00")  # 10 % of the member price
    assert outs["M"].reason is Reason.MIN_SPEND  # 180 left is not 满200
    assert outs["A"].amount == D("18.00")
    outs = {o.code: o for o in run(["A", "M"], found, lines)}
    assert (outs["M"].amount, outs["A"].amount) == (D("20.00"), D("18.00"))


def test_a_voucher_never_takes_more_than_its_lines_hold():
    beauty = Template(
        "B",
        "beauty",
        Kind.AMOUNT_OFF,
        face_value=D("18.00"),
        scope=Scope.of({"counter": ["C07"]}, None),
    )
    lines = [goods(1, "12.00", counter="C07"), goods(2, "100.00", counter="C01")]
    [out] = run(["B"], {"B": voucher("B", "B")}, lines, templates={"B": beauty})
    assert out.amount == D("12.00") and dict(out.discount.shares) == {1: D("12.00")}


def test_percent_off_is_capped_by_max_discount():
    [out] = run(["P"], {"P": voucher("P", "P9")}, [goods(1, "1000.00")])
    assert out.amount == D("50.00")


def test_reasons():
    found = {
        "used": voucher("used", "V18", status=Status.REDEEMED),
        "void": voucher("void", "V18", status=Status.VOIDED),
        "old": voucher("old", "V18", valid_to=NOW),
        "soon": voucher("soon", "V18", valid_from=NOW + timedelta(seconds=1)),
        "theirs": voucher("theirs", "V18", holder="m2"),
        "ok": voucher("ok", "V18"),
    }
    codes = ["used", "void", "old", "soon", "theirs", "ok", "ok", "nope"]
    got = [o.reason for o in run(codes, found, [goods(1, "100.00")])]
    assert got == [
        Reason.ALREADY_USED,
        Reason.VOIDED,
        Reason.EXPIRED,
        Reason.NOT_YET_VALID,
        Reason.NOT_HOLDER,
        None,
        Reason.DUPLICATE,
        Reason.NOT_FOUND,
    ]


def test_class_store_and_limit():
    strict = Template(
        "S",
        "strict",
        Kind.AMOUNT_OFF,
        face_value=D("5.00"),
        card_classes=frozenset({"DIAMOND"}),
        stores=frozenset({"S02"}),
    )
    once = Template("O", "once", Kind.AMOUNT_OFF, face_value=D("5.00"), per_member_limit=1)
    templates = {"S": strict, "O": once}
    found = {"s": voucher("s", "S"), "o1": voucher("o1", "O"), "o2": voucher("o2", "O")}
    outs = run(["s", "o1", "o2"], found, [goods(1, "100.00")], templates=templates)
    assert [o.reason for o in outs] == [Reason.CLASS, None, Reason.LIMIT]
    diamond = Redeemer("S01", "DIAMOND", "m1")
    [out] = run(["s"], found, [goods(1, "100.00")], who=diamond, templates=templates)
    assert out.reason is Reason.STORE


def test_bearer_vouchers_serve_anyone_even_without_a_card():
    bearer = Template("BR", "bearer", Kind.AMOUNT_OFF, face_value=D("5.00"), bearer=True)
    walk_in = Redeemer("S01", None, None)
    [out] = run(["b"], {"b": voucher("b", "BR")}, [goods(1, "9.00")], walk_in, None, {"BR": bearer})
    assert out.amount == D("5.00")
    [out] = run(["a"], {"a": voucher("a", "V18")}, [goods(1, "9.00")], walk_in)
    assert out.reason is Reason.NOT_HOLDER


def test_the_cost_follows_the_template_or_its_sharing_group():
    group = SharingGroup(
        "t",
        "STD",
        "Standard",
        D("0.5"),
        (ShareOverride(OverrideLevel.BRAND, "OLAY", D("0.2")),),
        NOW,
        NOW,
    )
    shared = Template("G", "g", Kind.AMOUNT_OFF, face_value=D("20.00"), sharing_group="STD")
    lines = [goods(1, "50.00", brand="OLAY"), goods(2, "50.00")]
    [out] = run(
        ["g"], {"g": voucher("g", "G")}, lines, groups={"STD": group}, templates={"G": shared}
    )
    assert out.discount is not None
    assert dict(out.discount.store_by_line) == {1: D("2.00"), 2: D("5.00")}
    assert (out.discount.store_borne, out.discount.supplier_borne) == (D("7.00"), D("13.00"))


def test_fanquan_one_per_full_amount_capped():
    every200 = VoucherRule("R", "V20", D("200.00"), max_per_receipt=2)
    assert earned_count(every200, [goods(1, "399.99")]) == 1
    assert earned_count(every200, [goods(1, "400.00")]) == 2
    assert earned_count(every200, [goods(1, "900.00")]) == 2
    tobacco_excluded = VoucherRule(
        "T", "V20", D("100.00"), scope=Scope.of(None, {"major_category": ["TOBACCO"]})
    )
    lines = [goods(1, "150.00", major_category="TOBACCO"), goods(2, "120.00")]
    assert earned_count(tobacco_excluded, lines) == 1


def test_deduct_takes_off_the_refund_what_the_rest_no_longer_earns():
    lines = [TillLine(1, "A", D(2), D("150.00")), TillLine(2, "B", D(1), D("100.00"))]
    detail = {
        "vouchers": [
            {
                "code": "M",
                "holder": "m1",
                "amount": "20.00",
                "valid_to": (NOW + timedelta(days=1)).isoformat(),
                "terms": {
                    "code": "M200",
                    "kind": "threshold_amount_off",
                    "face_value": "20.00",
                    "rate": None,
                    "max_discount": None,
                    "min_spend": "200.00",
                    "include": {},
                    "exclude": {},
                },
            }
        ]
    }
    amounts = {1: D("150.00"), 2: D("100.00")}

    def deduction(before, after, mode=OnReturn.DEDUCT):
        return return_vouchers(
            detail=detail,
            lines=lines,
            amounts=amounts,
            left_before=before,
            left_after=after,
            earned={},
            member_id="m1",
            on_return=mode,
            sale_id=1,
            return_no="R",
            now=NOW,
        )

    one = Fraction(1)
    # Half of line 1 back: 175 left, below 200: the 20 comes off the refund, once.
    assert deduction({1: one, 2: one}, {1: Fraction(1, 2), 2: one}).deduction == D("20.00")
    assert deduction({1: Fraction(1, 2), 2: one}, {1: Fraction(0), 2: one}).deduction == 0
    assert deduction({1: one, 2: one}, {1: one, 2: Fraction(0)}, OnReturn.KEEP).deduction == 0
    restored = deduction({1: one, 2: one}, {1: Fraction(0), 2: Fraction(0)}, OnReturn.RESTORE)
    assert [v.code for v in restored.restored] == ["M"]


money = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)
templates = st.one_of(
    st.builds(lambda v: Template("A", "a", Kind.AMOUNT_OFF, face_value=v), money),
    st.builds(
        lambda v, m: Template("T", "t", Kind.THRESHOLD_AMOUNT_OFF, face_value=v, min_spend=m),
        money,
        money,
    ),
    st.builds(
        lambda r: Template("P", "p", Kind.PERCENT_OFF, rate=r),
        st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=2),
    ),
)


@given(st.lists(money, min_size=1, max_size=8), st.lists(templates, min_size=1, max_size=4))
def test_discounts_add_up_and_never_exceed_a_line(amounts, chosen):
    lines = [goods(i + 1, str(a)) for i, a in enumerate(amounts)]
    named = {f"t{i}": t for i, t in enumerate(chosen)}
    found = {f"v{i}": voucher(f"v{i}", f"t{i}") for i in range(len(chosen))}  # v0 < v1 < …
    outs = run(list(found), found, lines, templates=named)
    taken = {line.line_no: D(0) for line in lines}
    for out in outs:
        if out.discount is None:
            assert out.amount == 0
            continue
        assert sum(out.discount.shares.values()) == out.amount > 0
        assert out.discount.store_borne + out.discount.supplier_borne == out.amount
        for no, share in out.discount.shares.items():
            assert share >= 0
            taken[no] += share
    assert all(taken[x.line_no] <= x.amount for x in lines)
    in_order = sorted(
        (o for o in outs if o.applied), key=lambda o: (KIND_ORDER[o.template.kind], o.code)
    )
    # Applied again to the same basket, in the order applied, they take the same again.
    assert replay_discounts([o.template for o in in_order], lines, {}) == [
        o.amount for o in in_order
    ]
