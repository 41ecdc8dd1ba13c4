"""Micro-benchmark of the pricing domain: ``RuleIndex.build`` over 100,000 rule entries and
``price_line`` (rate resolution included) per basket line.

Run: ``.venv/bin/python bench/pricing_domain.py [--entries N] [--seed S]``. Target: <= 20 µs
per line.

The rule set mimics a big tenant: 5 card classes, rule entries spread over all six levels
(20 major, 200 mid, 1,000 minor categories, 300 counters, 2,000 brands, 50,000 products),
grouped into documents approved over two years, a quarter of them time-limited, some voided,
and some future-dated, so many keys hold several overlapping documents.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import timeit
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.domain.card_classes import OverrideLevel, ShareOverride, SharingGroup
from app.domain.pricing import (
    ClassPricing,
    Level,
    Line,
    RuleEntry,
    RuleIndex,
    StackingMode,
    price_basket,
    price_line,
)

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CLASSES = ("NORMAL", "SILVER", "GOLD", "PLATINUM", "DIAMOND")
POOL = {
    Level.MAJOR_CATEGORY: 20,
    Level.MID_CATEGORY: 200,
    Level.MINOR_CATEGORY: 1_000,
    Level.COUNTER: 300,
    Level.BRAND: 2_000,
    Level.PRODUCT: 50_000,
}
PREFIX = {
    Level.MAJOR_CATEGORY: "MJ",
    Level.MID_CATEGORY: "MD",
    Level.MINOR_CATEGORY: "MN",
    Level.COUNTER: "CT",
    Level.BRAND: "BR",
    Level.PRODUCT: "SKU",
}
# Product rules are the most numerous in practice; categories the fewest.
LEVEL_WEIGHTS = (2, 5, 10, 8, 25, 50)


def code(level: Level, n: int) -> str:
    return f"{PREFIX[level]}{n:05d}"


def make_entries(count: int, rng: random.Random) -> list[RuleEntry]:
    entries: list[RuleEntry] = []
    levels = list(POOL)
    doc = 0
    while len(entries) < count:
        doc += 1
        approved = NOW - timedelta(minutes=rng.randrange(0, 2 * 365 * 24 * 60))
        start = approved + timedelta(days=rng.choice((0, 0, 0, 1, 7, 30)))  # some future-dated
        end = None
        if rng.random() < 0.25:
            end = start + timedelta(days=rng.randrange(1, 180))
        if rng.random() < 0.05:  # voided: ends at the void time
            voided = approved + timedelta(days=rng.randrange(0, 60))
            end = voided if end is None else min(end, voided)
        level = rng.choices(levels, LEVEL_WEIGHTS)[0]
        card_class = rng.choice(CLASSES)
        stackable = rng.random() < 0.7
        for _ in range(rng.randrange(1, 40)):  # entries in this document
            entries.append(
                RuleEntry(
                    rule_id=f"DR{doc:08d}",
                    level=level,
                    target=code(level, rng.randrange(POOL[level])),
                    card_class=card_class,
                    rate=Decimal(rng.randrange(50, 100)) / 100,
                    stackable=stackable,
                    approved_at=approved,
                    effective_from=start,
                    effective_to=end,
                )
            )
    return entries[:count]


def make_lines(count: int, rng: random.Random) -> list[Line]:
    lines = []
    for n in range(count):
        original = Decimal(rng.randrange(100, 100_000)) / 100
        promoted = rng.random() < 0.4
        existing = (original * Decimal(rng.randrange(60, 100)) / 100).quantize(Decimal("0.01"))
        lines.append(
            Line(
                line_no=n + 1,
                sku=code(Level.PRODUCT, rng.randrange(POOL[Level.PRODUCT])),
                major_category=code(Level.MAJOR_CATEGORY, rng.randrange(20)),
                mid_category=code(Level.MID_CATEGORY, rng.randrange(200)),
                minor_category=code(Level.MINOR_CATEGORY, rng.randrange(1_000)),
                counter=code(Level.COUNTER, rng.randrange(300)),
                brand=code(Level.BRAND, rng.randrange(2_000)),
                original_price=original,
                existing_price=existing if promoted else original,
                qty=Decimal(rng.choice(("1", "1", "2", "3", "0.455", "1.250"))),
            )
        )
    return lines


def best_us(stmt, number: int, repeat: int = 5) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=repeat)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    entries = make_entries(args.entries, rng)
    build_s = min(timeit.repeat(lambda: RuleIndex.build(entries), number=1, repeat=3))
    index = RuleIndex.build(entries)
    sizes = [len(slots) for slots in index._by_key.values()]
    print(f"entries: {len(entries):,} in {len({e.rule_id for e in entries}):,} documents")
    mean = statistics.fmean(sizes)
    print(f"keys: {len(sizes):,}; entries per key: mean {mean:.1f}, max {max(sizes)}")
    print(f"RuleIndex.build: {build_s * 1000:.0f} ms (best of 3)")

    sharing = SharingGroup(
        tenant_id="t",
        code="STD",
        name="Standard",
        store_share=Decimal("0.5"),
        overrides=tuple(
            ShareOverride(OverrideLevel(str(level)), code(level, n), Decimal("0.3"))
            for n in range(10)
            for level in (Level.COUNTER, Level.BRAND)
        ),
        created_at=NOW,
        updated_at=NOW,
    )
    klass = ClassPricing("GOLD", Decimal("0.9"), Decimal("0.8"), Decimal("0.95"), sharing)
    mode = StackingMode.THRESHOLD
    lines = make_lines(1_000, rng)
    levels = [price_line(ln, klass, index, mode, NOW).level for ln in lines]
    hit = {str(level): levels.count(level) for level in (*Level, None)}
    print(f"1,000 sample lines resolved at: {hit}")

    # One line that hits the longest key list (the longest walk), one that no rule matches.
    longest = max(index._by_key, key=lambda key: len(index._by_key[key]))
    longest_class, longest_level, longest_target = longest
    field = "sku" if longest_level == Level.PRODUCT else str(longest_level)
    worst = replace(lines[0], **{field: longest_target})
    worst_class = replace(klass, code=longest_class)
    miss = replace(
        lines[0],
        **dict.fromkeys(("sku", "major_category", "mid_category", "minor_category"), "NONE"),
        counter="NONE",
        brand="NONE",
    )

    # A brand with one open-ended rule and 200 short promotions approved after it, all over:
    # resolving walks past the 200 before finding the rule in effect.
    promos = [
        RuleEntry(
            rule_id=f"PROMO{n:04d}",
            level=Level.BRAND,
            target="BUSY",
            card_class="GOLD",
            rate=Decimal("0.7"),
            stackable=True,
            approved_at=NOW - timedelta(days=400 - n),
            effective_from=NOW - timedelta(days=400 - n),
            effective_to=NOW - timedelta(days=399 - n),
        )
        for n in range(200)
    ]
    base = replace(promos[0], rule_id="BASE", approved_at=NOW - timedelta(days=500))
    base = replace(base, effective_from=base.approved_at, effective_to=None)
    busy_index = RuleIndex.build([*entries, base, *promos])
    busy = replace(lines[0], sku="NONE", brand="BUSY")
    assert busy_index.find("GOLD", busy, NOW).rule_id == "BASE"

    one = lines[0]
    rate = klass.default_discount_rate
    figures = {
        "resolve, one line": best_us(lambda: index.resolve("GOLD", one, NOW, rate), 200_000),
        "price_line, one line": best_us(lambda: price_line(one, klass, index, mode, NOW), 100_000),
        "price_line, no rule matches": best_us(
            lambda: price_line(miss, klass, index, mode, NOW), 100_000
        ),
        f"price_line, longest key ({len(index._by_key[longest])} entries)": best_us(
            lambda: price_line(worst, worst_class, index, mode, NOW), 100_000
        ),
        "price_line, 200 expired promotions to skip": best_us(
            lambda: price_line(busy, klass, busy_index, mode, NOW), 20_000
        ),
        "price_basket, 1,000 mixed lines, per line": best_us(
            lambda: price_basket(lines, klass, index, mode, NOW), 50
        )
        / len(lines),
        "  same, multiply mode": best_us(
            lambda: price_basket(lines, klass, index, StackingMode.MULTIPLY, NOW), 50
        )
        / len(lines),
    }
    print()
    width = max(map(len, figures))
    for name, micros in figures.items():
        print(f"{name:<{width}}  {micros:6.2f} µs")
    print(f"target: <= 20 µs per line: {'met' if max(figures.values()) <= 20 else 'MISSED'}")


if __name__ == "__main__":
    main()
