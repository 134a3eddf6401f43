"""SKUs as people type them: any case matches, and a mistyped one finds its nearest."""

from __future__ import annotations

from store.domain.sku import matching_sku, nearest_skus

SKUS = ["BILI-VIP-1M", "GENSHIN-60", "IQIYI-VIP-1M", "STEAM-CN-50", "WIN11-PRO"]


def test_a_sku_matches_whatever_its_case() -> None:
    assert matching_sku("win11-Pro", SKUS) == "WIN11-PRO"
    assert matching_sku("WIN11", SKUS) is None


def test_the_nearest_skus_come_nearest_first_and_only_when_close() -> None:
    assert nearest_skus("gensin-60", SKUS)[0] == "GENSHIN-60"
    assert set(nearest_skus("VIP-1M", SKUS)[:2]) == {"BILI-VIP-1M", "IQIYI-VIP-1M"}
    assert nearest_skus("zzzz", SKUS) == ()
