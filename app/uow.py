"""Unit of work: one database transaction exposing the repositories.

It rolls back unless ``commit()`` is called, and turns unique/foreign-key violations into
domain conflicts by constraint name, so a race between two requests is a clean 409.
The hottest reads (authentication, the checkout context) go through ``reads``, a bare
asyncpg pool, outside any transaction.
"""

from __future__ import annotations

import contextlib
import re
import typing
from collections.abc import AsyncIterator

import asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import ReaderPool
from app.domain.errors import N_, Conflict, DomainError, Invalid, Unavailable
from app.repositories.analytics import AnalyticsRepository
from app.repositories.audit import AuditRepository
from app.repositories.campaigns import CampaignRepository
from app.repositories.card_classes import CardClassRepository, SharingGroupRepository
from app.repositories.cards import CardRepository
from app.repositories.change_account import ChangeAccountRepository
from app.repositories.clv_models import ClvModelRepository
from app.repositories.complaints import ComplaintRepository
from app.repositories.csi import CsiRepository
from app.repositories.health import HealthRepository
from app.repositories.idempotency import IdempotencyRepository
from app.repositories.import_jobs import ImportJobRepository
from app.repositories.imports import ImportRepository
from app.repositories.jobs import JobRunRepository
from app.repositories.ledger import LedgerStore
from app.repositories.member_groups import MemberGroupRepository
from app.repositories.members import MemberRepository
from app.repositories.nps import NpsRepository
from app.repositories.points import PointsRepository
from app.repositories.points_rules import PointsRulesRepository
from app.repositories.pricing import DiscountRuleRepository, PricingRepository
from app.repositories.reads import HotReads
from app.repositories.rewards import RewardRepository
from app.repositories.sales import SalesRepository
from app.repositories.tenancy import ApiKeyRepository, StoreRepository, TenantRepository
from app.repositories.tiers import TierRepository
from app.repositories.voucher_rules import VoucherRuleRepository
from app.repositories.voucher_settings import VoucherSettingsRepository
from app.repositories.vouchers import VoucherRepository

# constraint name -> (code, message, field)
CONSTRAINT_ERRORS: dict[str, tuple[str, str, str | None]] = {
    "pk_stores": ("store_exists", N_("A store with this code already exists."), "code"),
    "pk_card_classes": (
        "card_class_exists",
        N_("A card class with this code already exists."),
        "code",
    ),
    "pk_sharing_groups": (
        "sharing_group_exists",
        N_("A sharing group with this code already exists."),
        "code",
    ),
    "pk_voucher_templates": (
        "voucher_template_exists",
        N_("A voucher template with this code already exists."),
        "code",
    ),
    "uq_tenants_name": ("tenant_exists", N_("A tenant with this name already exists."), "name"),
    "pk_member_refs": (
        "member_exists",
        N_("A member with this external_ref already exists."),
        "external_ref",
    ),
    "pk_card_numbers": (
        "card_number_taken",
        N_("Another class already issued this number: give classes distinct prefixes or ranges."),
        "card_class",
    ),
    # Spends lock the account and check first; these only back that up, never a 500.
    "ck_points_accounts_balance_not_negative": (
        "insufficient_points",
        N_("Not enough points."),
        "points",
    ),
    "ck_points_lots_points_left_range": ("insufficient_points", N_("Not enough points."), "points"),
    # The change account is locked and checked first too; these only back that up.
    "ck_change_accounts_balance_not_negative": (
        "insufficient_change_balance",
        N_("Not enough money in the change account."),
        "amount",
    ),
    "ck_change_entries_amount_sign": (
        "invalid_amount",
        N_("The amount has the wrong sign."),
        "amount",
    ),
    # Sales claim their receipt with ON CONFLICT and returns lock the sale: backups only.
    "pk_sale_receipts": (
        "receipt_conflict",
        N_("This receipt was recorded already."),
        "receipt_no",
    ),
    "uq_sale_returns_tenant_id_member_id_sale_id_return_no": (
        "return_conflict",
        N_("This return number was recorded already for the sale."),
        "return_no",
    ),
}

_SHARD_SUFFIX = re.compile(r"_\d+$")


def _driver_error(exc: BaseException) -> object:
    """asyncpg's own exception (it carries sqlstate and constraint_name), whether it came
    through SQLAlchemy or straight from the driver (COPY and other raw-connection work)."""
    if isinstance(exc, asyncpg.PostgresError):
        return exc
    if isinstance(exc, DBAPIError):
        return getattr(exc.orig, "__cause__", None)
    return None


def constraint_error(exc: BaseException) -> DomainError:
    name = getattr(_driver_error(exc), "constraint_name", None) or ""
    # Citus reports a shard's copy of the constraint: its name and the shard id.
    known = CONSTRAINT_ERRORS.get(name) or CONSTRAINT_ERRORS.get(_SHARD_SUFFIX.sub("", name))
    code, message, field = known or (
        "integrity_conflict",
        N_("The change conflicts with existing data."),
        None,
    )
    return Conflict(code, message, field=field)


class UnitOfWork:
    # The repositories, each built on first use (``__getattr__``): most requests touch one or
    # two, and the hottest (a sale, a quote) often none.
    tenants: TenantRepository
    api_keys: ApiKeyRepository
    stores: StoreRepository
    card_classes: CardClassRepository
    sharing_groups: SharingGroupRepository
    members: MemberRepository
    cards: CardRepository
    tiers: TierRepository
    discount_rules: DiscountRuleRepository
    pricing: PricingRepository
    audit: AuditRepository
    points: PointsRepository
    points_rules: PointsRulesRepository
    change_account: ChangeAccountRepository
    idempotency: IdempotencyRepository
    job_runs: JobRunRepository
    sales: SalesRepository
    health: HealthRepository
    clv_models: ClvModelRepository
    member_groups: MemberGroupRepository
    analytics: AnalyticsRepository
    imports: ImportRepository
    import_jobs: ImportJobRepository
    nps: NpsRepository
    csi: CsiRepository
    complaints: ComplaintRepository
    vouchers: VoucherRepository
    campaigns: CampaignRepository
    voucher_settings: VoucherSettingsRepository
    voucher_rules: VoucherRuleRepository
    rewards: RewardRepository

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], reader: ReaderPool | None = None
    ) -> None:
        self._sessionmaker = sessionmaker
        self._session: AsyncSession | None = None
        self._open = False
        self._repositories: dict[str, object] = {}
        self._reader = reader
        self.reads = HotReads(reader)

    def fork(self) -> UnitOfWork:
        """Another unit of work on the same database: a transaction of its own, to run
        alongside this one (a bulk write split into parts)."""
        return UnitOfWork(self._sessionmaker, self._reader)

    @property
    def session(self) -> AsyncSession:
        """This transaction's session, opened on first use inside ``async with``."""
        if not self._open:
            raise RuntimeError("a unit of work is used inside `async with` only")
        if self._session is None:
            self._session = self._sessionmaker()
        return self._session

    def __getattr__(self, name: str) -> object:
        repository = _REPOSITORIES.get(name)
        if repository is None:
            raise AttributeError(name)
        built = self._repositories.get(name)
        if built is None:
            built = self._repositories[name] = repository(self.session)
        return built

    async def __aenter__(self) -> UnitOfWork:
        self._open = True
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        session, self._session, self._open = self._session, None, False
        self._repositories.clear()  # the next use (a retry) gets a new session
        if session is not None:
            try:
                await session.rollback()  # whatever was not committed; a no-op otherwise
                await session.close()
            except (OSError, TimeoutError, InterfaceError, OperationalError):
                if exc is None:
                    raise
        if exc is not None and (translated := translate(exc)) is not exc:
            raise translated from exc

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction: a failure inside undoes only what was done inside (so a
        refusal can still be recorded, e.g. for an idempotent replay) and comes out as a
        domain error where the database's error has one."""
        nested = await self.session.begin_nested()
        try:
            yield
        except Exception as exc:
            await nested.rollback()
            translated = translate(exc)
            if translated is exc:
                raise
            raise translated from exc
        await nested.commit()

    @contextlib.asynccontextmanager
    async def ledger(self) -> AsyncIterator[LedgerStore]:
        """Where a ledger write reads and applies its plan: this unit of work's transaction
        when it has one open (an Idempotency-Key's, a complaint step's), so the write commits
        with it; else a pooled connection in autocommit (the till's lane, a balance shown)."""
        if self._session is not None and self._session.in_transaction():
            connection = await (await self._session.connection()).get_raw_connection()
            store = LedgerStore(connection.driver_connection, joined=True)
            if self._reader is None or await self._reader.generic_plans(store.connection):
                await store.use_generic_plans()  # as the reader pool's connections do
            yield store
            return
        if self._reader is None:
            raise RuntimeError("this unit of work was built without a reader pool")
        async with self._reader.acquire() as connection:
            store = LedgerStore(connection, joined=False)
            try:
                yield store
            except BaseException:
                await store.finish(failed=True)
                raise
            await store.finish(failed=False)

    async def commit(self) -> None:
        try:
            await self.session.commit()
        except IntegrityError as exc:
            raise constraint_error(exc) from exc


_REPOSITORIES = typing.get_type_hints(UnitOfWork)  # name → repository class, from the above


class Busy(Exception):
    """A serialization failure or deadlock: the whole transaction may simply be retried."""


_CONNECTION_ERRORS = (
    OSError,
    TimeoutError,
    InterfaceError,
    OperationalError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
)


def translate(exc: BaseException) -> BaseException:
    """The domain's view of a database error; other exceptions come back unchanged."""
    sqlstate = str(getattr(_driver_error(exc), "sqlstate", "") or "")
    if sqlstate in ("40001", "40P01"):
        return Busy(sqlstate)
    if sqlstate == "55P03":  # lock_timeout: only the idempotency claim waits with one
        return Conflict(
            "idempotency_in_flight",
            "A request with this Idempotency-Key is still being processed; retry shortly.",
        )
    if isinstance(exc, IntegrityError | asyncpg.IntegrityConstraintViolationError):
        return constraint_error(exc)
    if sqlstate.startswith("22"):
        # Data exception: e.g. a NUL character or an out-of-range number that passed schema
        # validation. The client's input, so a 422, not a 500.
        return Invalid("unstorable_value", "A value cannot be stored as given.")
    # 08: connection exceptions; 57P: the server shutting down or not accepting connections.
    if isinstance(exc, _CONNECTION_ERRORS) or sqlstate.startswith(("08", "57P")):
        return Unavailable("database_unavailable", "The database cannot be reached.")
    return exc
