from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic.config import JsonDict

from app.schemas.common import DecimalString

_CHANGE: JsonDict = {
    "card_number": "S01100000016",
    "member_id": "3f1c9a52-0d4e-4b7a-9b1e-2c5d8e7f6a10",
    "from_class": "NORMAL",
    "to_class": "GOLD",
    "spend_12m": "5230.00",
}


class TierChangeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_CHANGE]})

    card_number: str
    member_id: str
    from_class: str
    to_class: str
    spend_12m: DecimalString


class TierReviewResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reviewed_at": "2026-11-23T02:00:00Z",
                    "upgraded": [_CHANGE],
                }
            ]
        }
    )

    reviewed_at: datetime
    upgraded: list[TierChangeRead]
