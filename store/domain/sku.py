"""SKUs as people type them: in any case, and, when mistyped, the ones they probably meant."""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process

NEAREST_SHOWN = 3
NEAREST_SCORE = 50
"""How alike (0-100) a SKU must be to be offered as what was meant."""


def matching_sku(typed: str, known: Iterable[str]) -> str | None:
    """The known SKU that `typed` names, whatever its case."""
    folded = typed.casefold()
    return next((sku for sku in known if sku.casefold() == folded), None)


def nearest_skus(typed: str, known: Iterable[str], limit: int = NEAREST_SHOWN) -> tuple[str, ...]:
    """The known SKUs most like `typed`, nearest first (ignoring case); none if none is close."""
    choices = {sku: sku.casefold() for sku in known}
    found = process.extract(
        typed.casefold(),
        choices,
        scorer=fuzz.WRatio,
        limit=limit,
        score_cutoff=NEAREST_SCORE,
    )
    return tuple(sku for _, _, sku in found)
