"""``loyalty distribute``: place every table on a Citus cluster as app/models/distribution.py
declares, then delegate the ledger's write to the member's node. Each step commits on its
own and what Citus already manages is skipped, so a run that stopped half-way is finished
by running it again."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.domain.errors import Conflict
from app.models.distribution import FUNCTIONS, Kind, steps, violations
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
                f"{len(problems)} key(s) break Citus's rules, e.g. {problems[0]}",
                extra={"problems": problems},
            )
        done = []
        for step in steps(constraints, await citus.placed()):
            if step.placement.kind == Kind.REFERENCE:
                await citus.create_reference_table(step.table)
                done.append(f"reference table {step.table}")
            else:
                column = step.placement.column or ""
                await citus.create_distributed_table(step.table, column, step.colocate_with)
                done.append(f"{step.table} distributed by {column}")
            await uow.commit()
        for signature, argument in FUNCTIONS.items():
            if not await citus.distributed_function(signature):
                await citus.create_distributed_function(signature, argument, "members")
                done.append(f"function {signature} delegated by {argument}")
                await uow.commit()
        return Distribution(version, done)
