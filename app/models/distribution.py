"""Where every table lives on a Citus cluster, and the rules its keys must obey for that.

A single PostgreSQL node ignores all of this. On Citus (README "Running on Citus"):
- **member** tables are hash-distributed by the member, co-located with ``members`` (which
  is distributed by its ``id``): a member's card, points, sales and scores share a shard, so
  every statement that names the member runs on one node;
- **reference** tables (the tenant's configuration, small and read everywhere) are copied to
  every node;
- **tenant** tables (logs: audit, complaints, survey answers, idempotency keys) are
  distributed by tenant in a co-location group of their own;
- **lookup** tables hold the uniqueness of a key that is not the member (a card number, a
  receipt, an external reference) and map it to the member; each is distributed by that key;
- **local** tables stay on the coordinator (alembic's version).

``violations`` checks a schema's tables and constraints (read from PostgreSQL's catalog by
app/repositories/distribution.py) against Citus's rules for these kinds. The test suite runs
it on the migrated database, so a table that could not be distributed fails ``make test``
instead of a deployment; ``loyalty distribute`` refuses such a schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    MEMBER = "member"
    REFERENCE = "reference"
    TENANT = "tenant"
    LOOKUP = "lookup"
    LOCAL = "local"


@dataclass(frozen=True)
class Placement:
    kind: Kind
    column: str | None = None  # the distribution column (distributed kinds)

    @property
    def distributed(self) -> bool:
        return self.kind in (Kind.MEMBER, Kind.TENANT, Kind.LOOKUP)

    @property
    def colocation(self) -> str | None:
        """Tables of one group share shard placement (lookups: each its own)."""
        return self.kind.value if self.kind in (Kind.MEMBER, Kind.TENANT) else None


MEMBER = Placement(Kind.MEMBER, "member_id")
REFERENCE = Placement(Kind.REFERENCE)
TENANT = Placement(Kind.TENANT, "tenant_id")
LOCAL = Placement(Kind.LOCAL)

TABLES: dict[str, Placement] = {
    # the members and what they own
    "members": Placement(Kind.MEMBER, "id"),
    "cards": MEMBER,
    "card_events": MEMBER,
    "change_accounts": MEMBER,
    "change_entries": MEMBER,
    "clv_model_members": MEMBER,
    "imported_transactions": MEMBER,
    "member_group_members": MEMBER,
    "member_spend": MEMBER,
    "points_accounts": MEMBER,
    "points_entries": MEMBER,
    "points_lots": MEMBER,
    "points_redemptions": MEMBER,
    "rfm_scores": MEMBER,
    "sale_returns": MEMBER,
    "sales": MEMBER,
    "campaign_members": MEMBER,
    "vouchers": MEMBER,
    # the tenant's configuration
    "tenants": REFERENCE,
    "analytics_settings": REFERENCE,
    "api_keys": REFERENCE,
    "card_classes": REFERENCE,
    "clv_models": REFERENCE,
    "csi_models": REFERENCE,
    "csi_nodes": REFERENCE,
    "csi_weightings": REFERENCE,
    "discount_rule_entries": REFERENCE,
    "discount_rules": REFERENCE,
    "job_runs": REFERENCE,
    "member_groups": REFERENCE,
    "points_multiplier_events": REFERENCE,
    "points_settings": REFERENCE,
    "points_warm_rules": REFERENCE,
    "pricing_settings": REFERENCE,
    "pricing_versions": REFERENCE,
    "rfm_runs": REFERENCE,
    "sale_settings": REFERENCE,
    "sharing_groups": REFERENCE,
    "stores": REFERENCE,
    "transaction_imports": REFERENCE,
    "campaigns": REFERENCE,
    "voucher_rules": REFERENCE,
    "voucher_settings": REFERENCE,
    "voucher_templates": REFERENCE,
    # the tenant's logs
    "audit_log": TENANT,
    "complaint_steps": TENANT,
    "complaints": TENANT,
    "csi_answers": TENANT,
    "csi_responses": TENANT,
    "idempotency_keys": TENANT,
    "import_jobs": TENANT,
    "nps_responses": TENANT,
    "rewards": TENANT,
    # the keys that are not the member, each with its member
    "card_numbers": Placement(Kind.LOOKUP, "number"),
    "member_refs": Placement(Kind.LOOKUP, "external_ref"),
    "sale_receipts": Placement(Kind.LOOKUP, "receipt_no"),
    "voucher_codes": Placement(Kind.LOOKUP, "code"),
    # the coordinator's own
    "alembic_version": LOCAL,
}


# --- the rules ---------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    not_null: frozenset[str]


@dataclass(frozen=True)
class Constraint:
    name: str
    type: str  # p primary key, u unique, x exclusion, f foreign key
    table: str
    columns: tuple[str, ...]
    referenced: str | None = None
    referenced_columns: tuple[str, ...] = ()


def violations(
    tables: Iterable[Table],
    constraints: Iterable[Constraint],
    placements: Mapping[str, Placement] = TABLES,
) -> list[str]:
    """What would stop Citus from distributing the schema as ``placements`` says, one line
    each (empty: it would go through)."""
    found = {t.name: t for t in tables}
    problems = [f"{name}: not in the schema" for name in placements if name not in found]
    for table in found.values():
        placement = placements.get(table.name)
        if placement is None:
            problems.append(f"{table.name}: no placement declared (app/models/distribution.py)")
        elif placement.distributed:
            column = placement.column
            if column not in table.columns:
                problems.append(f"{table.name}: no distribution column {column}")
            elif column not in table.not_null:
                problems.append(f"{table.name}: distribution column {column} may be null")
    for constraint in constraints:
        placement = placements.get(constraint.table)
        if placement is None:
            continue
        if constraint.type == "f":
            problems.extend(_foreign_key(constraint, placement, placements))
        elif placement.distributed and placement.column not in constraint.columns:
            what = {"p": "primary key", "u": "unique constraint", "x": "exclusion"}
            problems.append(
                f"{constraint.table}: {what[constraint.type]} {constraint.name} "
                f"({', '.join(constraint.columns)}) lacks {placement.column}"
            )
    return sorted(problems)


def _foreign_key(
    key: Constraint, placement: Placement, placements: Mapping[str, Placement]
) -> list[str]:
    target = placements.get(key.referenced or "")
    if target is None:
        return []  # reported as undeclared
    label = f"{key.table}: foreign key {key.name} to {key.referenced}"
    if target.kind == Kind.REFERENCE:
        return []
    if not placement.distributed:
        return [f"{label}: a {placement.kind} table may reference reference tables only"]
    if target.colocation is None or target.colocation != placement.colocation:
        return [f"{label}: not co-located ({placement.kind} → {target.kind})"]
    pairs = set(zip(key.columns, key.referenced_columns, strict=True))
    if (placement.column, target.column) not in pairs:
        return [f"{label}: does not pair {placement.column} with {target.column}"]
    return []


# --- the order of distribution ----------------------------------------------------------------

# Delegated to the member's node: the call runs where the member's rows are.
FUNCTIONS = {"apply_ledger_plan(uuid,uuid,jsonb)": "p_member"}


@dataclass(frozen=True)
class Step:
    table: str
    placement: Placement
    colocate_with: str  # a table of its group already placed, or 'none' (a new group)


def steps(placed: Iterable[str], placements: Mapping[str, Placement] = TABLES) -> list[Step]:
    """The tables still to place: reference tables, then member, tenant and lookup tables,
    ``members`` first so that it anchors the member group. No foreign key orders them:
    ``loyalty distribute`` sets the keys aside while it places tables."""
    done = set(placed)
    anchors = {
        placements[name].colocation: name
        for name in sorted(done)
        if name in placements and placements[name].colocation
    }
    out = []
    for kind in (Kind.REFERENCE, Kind.MEMBER, Kind.TENANT, Kind.LOOKUP):
        todo = sorted(
            (n for n, p in placements.items() if p.kind == kind and n not in done),
            key=lambda n: (n != "members", n),
        )
        for name in todo:
            placement = placements[name]
            group = placement.colocation
            out.append(Step(name, placement, anchors.get(group, "none") if group else "none"))
            if group:
                anchors.setdefault(group, name)
    return out
