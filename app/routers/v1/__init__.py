from fastapi import APIRouter

from app.routers.openapi_docs import AUTH_ERRORS
from app.routers.v1 import api_keys, stores

router = APIRouter(prefix="/v1", responses=AUTH_ERRORS)
router.include_router(stores.router)
router.include_router(api_keys.router)
