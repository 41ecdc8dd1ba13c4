"""``loyalty distribute``: place every table on a Citus cluster as app/models/distribution.py
declares, then delegate the ledger's write to the member's node. Each step commits on its
own and what Citus already manages is skipped, so a run that stopped half-way is finished
by running it again. The foreign keys are set aside while tables are placed (Citus refuses a
key between a table it manages and one it does not) and restored at the end."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.errors import Conflict
from app.models.distribution import FUNCTIONS, TABLES, Kind, Placement, steps, violations
from app.repositories.distribution import DistributionRepository
from app.uow import UnitOfWork


@dataclass(frozen=True)
class Distribution:
    citus_version: str | None  # None: plain PostgreSQL, nothing done
    done: list[str] = field(default_factory=list)  # what this run placed, in order


async def distribute(uow: UnitOfWork) -> Distribution:
    async with uow:
        citus = DistributionRepository(uow.session)
        version = await citus.citus_version()
        if version is None:
            return Distribution(None)
        constraints = await citus.constraints()
        problems = violations(await citus.tables(), constraints)
        if problems:
            raise Conflict(
                "schema_not_distributable",
                "{len} key(s) break Citus's rules, e.g. {problems}",
                extra={"problems": problems},
                len=len(problems),
                problems=problems[0],
            )
        placed = await citus.placed()
        for name, kind in placed.items():
            expected = _citus_type(TABLES[name]) if name in TABLES else None
            if kind not in ("local", expected):
                raise Conflict(
                    "table_misplaced",
                    "Citus holds {name} as a {kind} table; it is declared {expected}.",
                    name=name,
                    kind=kind,
                    expected=expected,
                )
        done = []
        todo = steps([n for n, kind in placed.items() if kind != "local"])
        if todo:
            if dropped := await citus.set_foreign_keys_aside():
                done.append(f"{dropped} foreign key(s) set aside")
            for name in [n for n, kind in placed.items() if kind == "local"]:
                await citus.undistribute_table(name)  # pulled in by a key; placed below
            await uow.commit()
        for step in todo:
            if step.placement.kind == Kind.REFERENCE:
                await citus.create_reference_table(step.table)
                done.append(f"reference table {step.table}")
            else:
                column = step.placement.column or ""
                await citus.create_distributed_table(step.table, column, step.colocate_with)
                done.append(f"{step.table} distributed by {column}")
            await uow.commit()
        if restored := await citus.restore_foreign_keys():
            done.append(f"{restored} foreign key(s) restored")
            await uow.commit()
        if await citus.propagate_set_local():
            done.append("sessions send their SET LOCAL settings to the workers")
            await uow.commit()
        for signature, argument in FUNCTIONS.items():
            if await citus.plan_each_call(signature):
                done.append(f"function {signature} plans each call")
                await uow.commit()
            if not await citus.distributed_function(signature):
                await citus.create_distributed_function(signature, argument, "members")
                done.append(f"function {signature} delegated by {argument}")
                await uow.commit()
        return Distribution(version, done)


def _citus_type(placement: Placement) -> str:
    """What citus_tables calls a table placed as declared."""
    return "reference" if placement.kind == Kind.REFERENCE else "distributed"
