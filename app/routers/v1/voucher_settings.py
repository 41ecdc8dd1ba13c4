from fastapi import APIRouter

from app.domain.access import Principal, Scope
from app.routers.deps import Uow, scoped
from app.routers.openapi_docs import BODY_ERRORS, problems
from app.schemas.voucher_settings import VoucherSettingsRead, VoucherSettingsUpdate
from app.services import voucher_settings

router = APIRouter(prefix="/settings", tags=["settings"])


def _read(settings) -> VoucherSettingsRead:
    return VoucherSettingsRead(
        voucher_on_return=settings.voucher_on_return, gross_margin=settings.gross_margin
    )


@router.get(
    "/vouchers",
    response_model=VoucherSettingsRead,
    summary="Get the voucher settings",
    description="Scopes: `admin`, `pos`, `app`, `partner`, `analytics`. A tenant that never "
    "set them keeps vouchers on returns (`keep`) and has no gross margin.",
)
async def get_voucher_settings(uow: Uow, who: Principal = scoped(*Scope)) -> VoucherSettingsRead:
    return _read(await voucher_settings.get_settings(uow, who))


@router.put(
    "/vouchers",
    response_model=VoucherSettingsRead,
    summary="Set the voucher settings",
    description="Scope: `admin`. Replaces both (absent fields take their defaults) and is "
    "audited. `gross_margin` 0 to 1 with at most 4 decimals (422 `invalid_gross_margin`).",
    responses={
        **BODY_ERRORS,
        **problems(
            422,
            examples={422: ("invalid_gross_margin", "gross_margin is a fraction from 0 to 1.")},
        ),
    },
)
async def put_voucher_settings(
    body: VoucherSettingsUpdate, uow: Uow, who: Principal = scoped(Scope.ADMIN)
) -> VoucherSettingsRead:
    settings = await voucher_settings.put_settings(
        uow, who, body.voucher_on_return, body.gross_margin
    )
    return _read(settings)
