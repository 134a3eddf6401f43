"""The shop's languages: which one a Telegram app's code means, and a catalog text in each."""

from __future__ import annotations

from store.domain.language import Language, localized, traditional
from store.domain.model import Product


def test_a_text_the_operator_wrote_in_traditional_chinese_is_shown_as_written() -> None:
    assert localized(Language.ZH_HANT, "软件激活码", "Licences", "軟體序號") == "軟體序號"


def test_without_one_traditional_readers_see_the_simplified_text_in_traditional_characters() -> (
    None
):
    assert localized(Language.ZH_HANT, "爱奇艺黄金会员 月卡", "iQIYI") == "愛奇藝黃金會員 月卡"


def test_the_conversion_changes_characters_never_the_wording_or_other_text() -> None:
    assert traditional("软件 Steam ¥50 STEAM-…-5V94") == "軟件 Steam ¥50 STEAM-…-5V94"


def test_simplified_and_english_readers_get_their_own_texts() -> None:
    assert localized(Language.ZH, "钱包", "Wallet", "錢包") == "钱包"
    assert localized(Language.EN, "钱包", "Wallet", "錢包") == "Wallet"


def test_a_product_names_itself_in_each_language() -> None:
    product = Product(
        "S",
        "c",
        "原神 创世结晶",
        "Genshin",
        "",
        "",
        "登录游戏",
        "Log in",
        580,
        58,
        10,
        name_zh_hant="原神 創世結晶",
    )
    assert product.name(Language.ZH_HANT) == "原神 創世結晶"
    assert product.redeem(Language.ZH_HANT) == "登錄遊戲"
    assert product.name(Language.EN) == "Genshin"


def test_telegram_takes_no_code_of_its_own_for_traditional_chinese_menus() -> None:
    assert [language.telegram_code for language in Language] == ["zh", None, "en"]
