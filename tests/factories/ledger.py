"""The points ledger's invariant, checked for every member in one snapshot."""

from collections import defaultdict
from datetime import UTC, datetime

from sqlalchemy import text

from app.db import create_engine
from app.domain.points import Category, Lot
from app.domain.points_ledger import LotEntry, ledger_problems


async def ledger_report(database_url: str) -> dict[tuple[str, str], list[str]]:
    """Every member's ledger problems, read in one snapshot."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                accounts = (await conn.execute(text("SELECT * FROM points_accounts"))).mappings()
                entries = await conn.execute(
                    text(
                        "SELECT tenant_id, member_id, category, points, available_at, lot_id "
                        "FROM points_entries"
                    )
                )
                entries = entries.all()
                lots = await conn.execute(
                    text(
                        "SELECT id, tenant_id, member_id, category, points_left, earned_at, "
                        "available_at, expires_at FROM points_lots"
                    )
                )
                lots = lots.all()
                accounts = list(accounts)
    finally:
        await engine.dispose()
    now = datetime.now(UTC)
    members: dict[tuple, dict] = defaultdict(lambda: {"totals": {}, "balance": 0, "e": [], "l": []})
    for a in accounts:
        m = members[(str(a["tenant_id"]), str(a["member_id"]))]
        m["totals"] = {c: a[c.value.lower()] for c in Category}
        m["balance"] = a["balance"]
    for t, mid, category, points, available_at, lot_id in entries:
        members[(str(t), str(mid))]["e"].append(
            LotEntry(Category(category), points, available_at, str(lot_id) if lot_id else None)
        )
    for lot_id, t, mid, category, left, earned, available, expires in lots:
        members[(str(t), str(mid))]["l"].append(
            Lot(str(lot_id), Category(category), left, earned, available, expires)
        )
    report = {}
    for key, m in members.items():
        problems = ledger_problems(m["totals"], m["balance"], m["e"], m["l"], now)
        if problems:
            report[key] = problems
    return report
