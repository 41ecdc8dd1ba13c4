"""The rewards catalogue (积分商城, docs/domain §12): offers, and exchanges of points for
vouchers.

An exchange is *inner* (it runs in the unit of work ``run_once`` opened, in its savepoint):
it spends the points through the ledger's read → decide → apply (joined to that
transaction), issues the voucher, then takes one from the stock with a guarded UPDATE. A
refusal at any step — the stock ran out meanwhile, say — rolls back the savepoint, points
spent included: exactly once, all or nothing.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import datetime

from app.domain.access import Principal
from app.domain.audit import Change
from app.domain.errors import Conflict, NotFound
from app.domain.pagination import Page, decode_cursor, id_cursor, id_page, page_of
from app.domain.rewards import (
    Exchange,
    Reward,
    RewardTerms,
    check_open,
    check_reward,
    decide_exchange,
    out_of_stock,
)
from app.domain.voucher_codes import new_code
from app.domain.voucher_terms import changed_terms
from app.services.ledger import decide_and_apply
from app.services.points import member_reader
from app.uow import UnitOfWork

SUBJECT = "reward"
TERMS = tuple(f.name for f in fields(RewardTerms))


def _not_found(code: str) -> NotFound:
    return NotFound("reward_not_found", "No reward {reward}.", reward=code)


async def _get(uow: UnitOfWork, who: Principal, code: str, *, lock: bool = False) -> Reward:
    found = await uow.rewards.get(who.tenant_id, code, lock=lock)
    if found is None:
        raise _not_found(code)
    return found


async def _check(uow: UnitOfWork, who: Principal, terms: RewardTerms) -> None:
    known = await uow.rewards.references(
        who.tenant_id, templates=[terms.template], card_classes=terms.card_classes
    )
    check_reward(terms, known)


async def _log(
    uow: UnitOfWork, who: Principal, action: str, before: Reward | None, after: Reward
) -> None:
    changes = changed_terms(before, after, RewardTerms)
    await uow.audit.write(who.tenant_id, SUBJECT, after.code, action, who.key_name, changes)


async def create_reward(uow: UnitOfWork, who: Principal, terms: RewardTerms) -> Reward:
    async with uow:
        await _check(uow, who, terms)
        created = await uow.rewards.add(who.tenant_id, terms)
        if created is None:
            raise Conflict(
                "reward_exists",
                "A reward {reward} exists already.",
                field="code",
                reward=terms.code,
            )
        await _log(uow, who, "create", None, created)
        await uow.commit()
    return created


async def get_reward(uow: UnitOfWork, who: Principal, code: str) -> Reward:
    async with uow:
        return await _get(uow, who, code)


async def list_rewards(
    uow: UnitOfWork, who: Principal, active: bool | None, cursor: str | None, limit: int
) -> Page[Reward]:
    after = decode_cursor(cursor, 1, (str,))
    async with uow:
        rows = await uow.rewards.list(who.tenant_id, after[0] if after else None, limit, active)
    return page_of(rows, limit, lambda r: [r.code])


async def update_reward(uow: UnitOfWork, who: Principal, code: str, changes: dict) -> Reward:
    """Change any terms but the code; the result is checked whole. The row is locked, so a
    new ``stock`` is what is left after the exchanges before it, and before those after."""
    async with uow:
        current = await _get(uow, who, code, lock=True)
        merged = replace(RewardTerms(**{name: getattr(current, name) for name in TERMS}), **changes)
        await _check(uow, who, merged)
        if not changed_terms(current, merged, RewardTerms):
            return current
        updated = await uow.rewards.save(who.tenant_id, merged)
        await _log(uow, who, "update", current, updated)
        await uow.commit()
    return updated


async def list_reward_changes(
    uow: UnitOfWork, who: Principal, code: str, cursor: str | None, limit: int
) -> Page[Change]:
    """Newest first."""
    before = id_cursor(cursor)
    async with uow:
        await _get(uow, who, code)
        rows = await uow.audit.read(who.tenant_id, SUBJECT, code, before, limit)
    return id_page(rows, limit)


async def exchange(
    uow: UnitOfWork,
    who: Principal,
    code: str,
    *,
    member_id: str | None,
    card_number: str | None,
    now: datetime,
) -> Exchange:
    """Inner: spend the reward's points and issue its voucher, or refuse with nothing done."""
    reward = await _get(uow, who, code)
    check_open(reward, now)  # before reading the member: a closed offer costs one read
    template = await uow.rewards.template(who.tenant_id, reward.template)
    classes: frozenset[str] = frozenset()
    if reward.card_classes and card_number is None and member_id is not None:
        classes = await uow.rewards.member_classes(who.tenant_id, member_id, now)
    voucher_code = new_code()
    async with uow.ledger() as store:
        done: Exchange = await decide_and_apply(
            store,
            member_reader(
                store, who, member_id, card_number, now, with_lots=True, with_redemption=True
            ),
            lambda context: decide_exchange(
                context,
                reward=reward,
                template=template,
                member_classes=classes,
                card_number=card_number,
                member_id=member_id,
                voucher_code=voucher_code,
                now=now,
            ),
        )
    await uow.vouchers.issue(who.tenant_id, [done.voucher])
    if not await uow.rewards.take_one(who.tenant_id, code):
        # Taken by racing exchanges, or withdrawn, since it was read: the savepoint this
        # runs in rolls back the points spent and the voucher.
        now_as = await _get(uow, who, code)
        check_open(now_as, now)
        raise out_of_stock(code)
    return done
