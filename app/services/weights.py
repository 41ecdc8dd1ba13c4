"""Indicator weights (docs/domain §9.2): the stateless calculator. The CSI's node weights use the
same methods (app/services/csi.py)."""

from __future__ import annotations

from collections.abc import Callable

from app.domain import weights
from app.domain.weights import Method, Weighting

METHODS: dict[Method, Callable[..., Weighting]] = {
    Method.EXPERT_AVERAGE: weights.expert_average,
    Method.DIRECT: weights.direct,
    Method.PAIRWISE: weights.pairwise,
    Method.DELPHI: weights.delphi,
    Method.AHP: weights.ahp,
}


def weigh(method: Method, indicators: list[str], params: dict) -> Weighting:
    """``params``: the method's own inputs, as app.domain.weights names them."""
    return METHODS[method](indicators, **params)
