"""Catalog files: what a good file becomes, and how each kind of mistake is refused."""

from __future__ import annotations

import re

import pytest

from config.strict_yaml import MAX_ALIASES
from store.formats.catalog_file import (
    MAX_FILE_BYTES,
    CatalogFileError,
    CatalogSpec,
    CategorySpec,
    ProductSpec,
    parse_catalog,
)

GOOD = """\
categories:
  - id: game
    name: {zh: 游戏点卡, en: Game cards}
    position: 3
  - id: video
    name: 视频会员
products:
  - sku: STEAM-CN-100
    category: game
    name: {zh: Steam 钱包 ¥100, en: Steam Wallet ¥100}
    description: {zh: 国区钱包, en: China region wallet}
    redeem: {zh: 在 Steam 客户端兑换, en: Redeem in the Steam client}
    price: 9500
    stars: 950
    order_limit: 10
    low_stock_threshold: 2
    active: false
    position: 7
  - sku: NETFLIX-1M
    category: video
    name: "  Netflix 1 month  "
    price: 4500
"""


def refusal(text: str) -> CatalogFileError:
    with pytest.raises(CatalogFileError) as caught:
        parse_catalog(text)
    return caught.value


def test_a_good_catalog_parses_to_the_expected_specs() -> None:
    assert parse_catalog(GOOD) == CatalogSpec(
        categories=(
            CategorySpec(id="game", name_zh="游戏点卡", name_en="Game cards", position=3),
            CategorySpec(id="video", name_zh="视频会员", name_en="视频会员", position=2),
        ),
        products=(
            ProductSpec(
                sku="STEAM-CN-100",
                category_id="game",
                name_zh="Steam 钱包 ¥100",
                name_en="Steam Wallet ¥100",
                description_zh="国区钱包",
                description_en="China region wallet",
                redeem_zh="在 Steam 客户端兑换",
                redeem_en="Redeem in the Steam client",
                price_minor=9500,
                price_stars=950,
                order_limit=10,
                low_stock_threshold=2,
                active=False,
                position=7,
            ),
            ProductSpec(
                sku="NETFLIX-1M",
                category_id="video",
                name_zh="Netflix 1 month",
                name_en="Netflix 1 month",
                description_zh="",
                description_en="",
                redeem_zh="",
                redeem_en="",
                price_minor=4500,
                price_stars=None,
                order_limit=None,
                low_stock_threshold=5,
                active=True,
                position=2,
            ),
        ),
    )


def test_plain_string_texts_apply_to_both_languages_and_are_stripped() -> None:
    text = GOOD.replace("price: 4500", "price: 4500\n    description: '  Same  '\n    redeem: R")
    netflix = parse_catalog(text).products[1]
    assert (netflix.name_zh, netflix.name_en) == ("Netflix 1 month", "Netflix 1 month")
    assert (netflix.description_zh, netflix.description_en) == ("Same", "Same")
    assert (netflix.redeem_zh, netflix.redeem_en) == ("R", "R")


def test_a_language_left_out_of_a_description_is_empty() -> None:
    text = GOOD.replace("{zh: 国区钱包, en: China region wallet}", "{zh: 国区钱包}")
    steam = parse_catalog(text).products[0]
    assert (steam.description_zh, steam.description_en) == ("国区钱包", "")


def test_an_optional_field_left_empty_takes_its_default() -> None:
    text = GOOD.replace("stars: 950", "stars:").replace("active: false", "active:")
    steam = parse_catalog(text).products[0]
    assert (steam.price_stars, steam.active) == (None, True)


def test_text_is_taken_as_written_even_where_yaml_would_read_a_number() -> None:
    text = GOOD.replace("sku: NETFLIX-1M", "sku: 0123").replace("name: 视频会员", "name: 2048")
    spec = parse_catalog(text)
    assert spec.products[1].sku == "0123"
    assert spec.categories[1].name_en == "2048"


def test_an_empty_catalog_list_is_allowed() -> None:
    assert parse_catalog("categories: []\nproducts: []\n") == CatalogSpec((), ())


@pytest.mark.parametrize(
    ("text", "line", "field", "problem"),
    [
        (
            GOOD.replace("price: 9500", "price: 19.99"),
            13,
            "products[0].price",
            "must be a whole number of minor units (e.g. 1999 for ¥19.99)",
        ),
        (
            GOOD.replace("price: 9500", 'price: "9500"'),
            13,
            "products[0].price",
            "must be a whole number of minor units (e.g. 1999 for ¥19.99)"
            " (write it without quotes)",
        ),
        (
            GOOD.replace("price: 9500", "price: true"),
            13,
            "products[0].price",
            "must be a whole number of minor units (e.g. 1999 for ¥19.99)",
        ),
        (GOOD.replace("price: 9500", "price: 0"), 13, "products[0].price", "must be more than 0"),
        (
            GOOD.replace("price: 9500", "price: 1000000001"),
            13,
            "products[0].price",
            "must be at most 1000000000 (¥10,000,000.00)",
        ),
        (
            GOOD.replace("stars: 950", "stars: 10001"),
            14,
            "products[0].stars",
            "must be a whole number of Telegram Stars from 1 to 10000",
        ),
        (
            GOOD.replace("order_limit: 10", "order_limit: yes"),
            15,
            "products[0].order_limit",
            "must be a whole number from 1 to 100",
        ),
        (
            GOOD.replace("order_limit: 10", "order_limit: 101"),
            15,
            "products[0].order_limit",
            "must be a whole number from 1 to 100",
        ),
        (
            GOOD.replace("low_stock_threshold: 2", "low_stock_threshold: -1"),
            16,
            "products[0].low_stock_threshold",
            "must be a whole number, 0 or more",
        ),
        (
            GOOD.replace("active: false", "active: 'false'"),
            17,
            "products[0].active",
            "must be true or false (write it without quotes)",
        ),
        (
            GOOD.replace("position: 3", "position: 1.5"),
            4,
            "categories[0].position",
            "must be a whole number, 0 or more",
        ),
    ],
)
def test_a_number_of_the_wrong_type_or_range_is_refused_on_its_line(
    text: str, line: int, field: str, problem: str
) -> None:
    error = refusal(text)
    assert (error.line, error.field, error.problem) == (line, field, problem)
    assert str(error) == f"line {line}: {field}: {problem}"


PRICE_HINT = "must be a whole number of minor units (e.g. 1999 for ¥19.99)"


@pytest.mark.parametrize(
    ("written", "field", "line", "problem"),
    [
        ("price: 1:40", "products[0].price", 13, PRICE_HINT),
        ("price: 0x64", "products[0].price", 13, PRICE_HINT),
        ("price: 0o144", "products[0].price", 13, PRICE_HINT),
        ("price: 1_000", "products[0].price", 13, PRICE_HINT),
        ("price: !!int 0x64", "products[0].price", 13, PRICE_HINT),
        (
            "stars: 1_0",
            "products[0].stars",
            14,
            "must be a whole number of Telegram Stars from 1 to 10000",
        ),
        (
            "order_limit: 0b11",
            "products[0].order_limit",
            15,
            "must be a whole number from 1 to 100",
        ),
        ("position: 1:00", "categories[0].position", 4, "must be a whole number, 0 or more"),
        ("active: yes", "products[0].active", 17, "must be true or false"),
        ("active: on", "products[0].active", 17, "must be true or false"),
        ("active: No", "products[0].active", 17, "must be true or false"),
        ("active: !!bool off", "products[0].active", 17, "must be true or false"),
    ],
)
def test_yaml_1_1_numbers_and_booleans_are_refused_as_the_wrong_type(
    written: str, field: str, line: int, problem: str
) -> None:
    name = written.partition(":")[0]
    text = re.sub(rf"(?m)^    {name}: .*$", f"    {written}", GOOD, count=1)
    error = refusal(text)
    assert str(error) == f"line {line}: {field}: {problem}"


def test_a_decimal_price_with_a_leading_zero_is_read_in_base_10() -> None:
    # YAML 1.1 read 0100 as octal, a price of 64.
    steam = parse_catalog(GOOD.replace("price: 9500", "price: 0100")).products[0]
    assert steam.price_minor == 100


def test_true_and_false_may_be_capitalised() -> None:
    steam = parse_catalog(GOOD.replace("active: false", "active: False")).products[0]
    assert steam.active is False


def test_a_catalog_over_the_size_cap_is_refused_in_one_line() -> None:
    assert MAX_FILE_BYTES == 1024 * 1024
    text = GOOD + "#" * (MAX_FILE_BYTES - len(GOOD.encode()) + 1)
    assert str(refusal(text)) == (
        f"the file is larger than 1 MB (it has {MAX_FILE_BYTES + 1} bytes); split it or trim it"
    )


def test_a_catalog_at_the_size_cap_is_read() -> None:
    text = GOOD + "#" * (MAX_FILE_BYTES - len(GOOD.encode()))
    assert len(parse_catalog(text).products) == 2


def test_more_aliases_than_the_budget_are_refused_on_their_line() -> None:
    text = GOOD.replace("    name: 视频会员\n", "    name: &v 视频会员\n")
    text += "".join(
        f"  - sku: ALIAS-{n}\n    category: video\n    name: *v\n    price: 1\n"
        for n in range(MAX_ALIASES + 1)
    )
    error = refusal(text)
    assert error.line == 23 + 4 * MAX_ALIASES + 2
    assert error.problem.startswith(f"more than {MAX_ALIASES} aliases (*name)")


def test_a_few_aliases_are_allowed() -> None:
    text = GOOD.replace("    name: 视频会员\n", "    name: &v 视频会员\n")
    text += "  - sku: ALIAS-1\n    category: video\n    name: *v\n    price: 1\n"
    assert parse_catalog(text).products[2].name_en == "视频会员"


def test_a_misspelt_field_is_refused_with_a_suggestion() -> None:
    error = refusal(GOOD.replace("price: 9500", "prce: 9500"))
    assert str(error) == "line 13: products[0].prce: unknown field (did you mean price?)"


def test_an_unknown_field_with_no_close_match_lists_the_fields_expected() -> None:
    error = refusal(GOOD.replace("position: 3", "colour: red"))
    assert str(error) == "line 4: categories[0].colour: unknown field (expected id, name, position)"


def test_an_unknown_top_level_field_is_refused() -> None:
    error = refusal(GOOD + "product: []\n")
    assert str(error) == "line 23: product: unknown field (did you mean products?)"


def test_an_unknown_language_is_refused() -> None:
    error = refusal(GOOD.replace("en: Game cards", "eng: Game cards"))
    assert str(error) == "line 3: categories[0].name.eng: unknown field (did you mean en?)"


def test_an_unquoted_comma_inside_braces_is_refused_with_a_hint_to_quote() -> None:
    error = refusal(GOOD.replace("en: Game cards", "en: Games, cards"))
    assert str(error) == (
        "line 3: categories[0].name.cards: unknown field"
        " (a comma inside { } starts a new field: put text with commas in quotes)"
    )


def test_a_field_given_twice_is_refused() -> None:
    error = refusal(GOOD.replace("stars: 950", "stars: 950\n    stars: 900"))
    assert str(error) == "line 15: products[0].stars: given twice (first on line 14)"


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        (GOOD.replace("    price: 4500\n", ""), 19, "products[1].price"),
        (GOOD.replace("    category: video\n", ""), 19, "products[1].category"),
        (GOOD.replace("  - sku: NETFLIX-1M\n    category", "  - category"), 19, "products[1].sku"),
        (GOOD.replace('    name: "  Netflix 1 month  "\n', ""), 19, "products[1].name"),
        (GOOD.replace("    name: 视频会员\n", ""), 5, "categories[1].name"),
        ("products: []\n", 1, "categories"),
        ("categories: []\n", 1, "products"),
    ],
)
def test_a_missing_required_field_is_refused_on_the_line_of_its_entry(
    text: str, line: int, field: str
) -> None:
    error = refusal(text)
    assert (error.line, error.field, error.problem) == (line, field, "is required")


def test_a_name_needs_both_languages() -> None:
    error = refusal(GOOD.replace(", en: Game cards", ""))
    assert str(error) == "line 3: categories[0].name.en: is required (give both zh and en)"


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        (GOOD.replace('"  Netflix 1 month  "', '"   "'), 21, "products[1].name"),
        (GOOD.replace("name: 视频会员", "name:"), 6, "categories[1].name"),
        (GOOD.replace("en: Game cards", "en: ''"), 3, "categories[0].name.en"),
        (GOOD.replace("sku: NETFLIX-1M", "sku: ''"), 19, "products[1].sku"),
        (GOOD.replace("category: video", "category:"), 20, "products[1].category"),
    ],
)
def test_an_empty_name_or_id_is_refused(text: str, line: int, field: str) -> None:
    error = refusal(text)
    assert (error.line, error.field, error.problem) == (line, field, "must not be empty")


def test_a_name_over_64_characters_is_refused() -> None:
    error = refusal(GOOD.replace("Netflix 1 month", "N" * 65))
    assert str(error) == "line 21: products[1].name: must be at most 64 characters (it has 65)"


def test_a_description_over_1000_characters_is_refused() -> None:
    error = refusal(GOOD.replace("China region wallet", "w" * 1001))
    assert error.line == 11
    assert error.field == "products[0].description.en"


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        (GOOD.replace("id: game", "id: Game"), 2, "categories[0].id"),
        (GOOD.replace("id: game", "id: " + "g" * 33), 2, "categories[0].id"),
        (GOOD.replace("sku: STEAM-CN-100", "sku: STEAM CN 100"), 8, "products[0].sku"),
        (GOOD.replace("sku: STEAM-CN-100", "sku: STEAM/CN"), 8, "products[0].sku"),
    ],
)
def test_an_id_or_sku_with_characters_outside_its_alphabet_is_refused(
    text: str, line: int, field: str
) -> None:
    error = refusal(text)
    assert (error.line, error.field) == (line, field)
    assert error.problem.startswith("must be 1 to 32 characters from ")


def test_a_repeated_category_id_is_refused() -> None:
    error = refusal(GOOD.replace("id: video", "id: game"))
    assert str(error) == "line 5: categories[1].id: repeats the id game from line 2"


def test_a_repeated_sku_is_refused() -> None:
    error = refusal(GOOD.replace("sku: NETFLIX-1M", "sku: STEAM-CN-100"))
    assert str(error) == "line 19: products[1].sku: repeats the SKU STEAM-CN-100 on line 8"


def test_skus_that_differ_only_in_case_are_refused() -> None:
    error = refusal(GOOD.replace("sku: NETFLIX-1M", "sku: steam-cn-100"))
    assert str(error) == (
        "line 19: products[1].sku: differs only in case from the SKU STEAM-CN-100 on line 8"
    )


def test_a_product_naming_a_missing_category_is_refused() -> None:
    error = refusal(GOOD.replace("category: video", "category: vidoe"))
    assert str(error) == (
        "line 20: products[1].category: no category vidoe in this file (did you mean video?)"
    )


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("categories:\n  - id: game\n   name: x\n", 3),
        ("categories: [game\nproducts: []\n", 2),
        ("categories:\n\t- id: game\n", 2),
        ("categories: []\nproducts: []\n---\nmore: 1\n", 3),
        ("categories: []\nproducts: [\x00]\n", 2),
    ],
)
def test_a_yaml_syntax_error_is_refused_with_its_line(text: str, line: int) -> None:
    error = refusal(text)
    assert error.line == line
    assert error.field == ""
    assert str(error).startswith(f"line {line}: invalid YAML: ")


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n"])
def test_an_empty_file_is_refused(text: str) -> None:
    assert str(refusal(text)) == "the catalog file is empty"


@pytest.mark.parametrize("text", ["- game\n- video\n", "just some text\n"])
def test_a_top_level_that_is_not_a_mapping_is_refused(text: str) -> None:
    assert str(refusal(text)) == (
        "line 1: the top level must be a mapping with categories and products"
    )


def test_a_list_where_an_entry_should_be_is_refused() -> None:
    error = refusal("categories:\n  - [game]\nproducts: []\n")
    assert (error.line, error.field) == (2, "categories[0]")


def test_a_section_that_is_not_a_list_is_refused() -> None:
    error = refusal("categories:\nproducts: []\n")
    assert str(error) == "line 1: categories: must be a list (each entry starting with '- ')"


def test_a_python_tag_is_refused_and_never_run() -> None:
    error = refusal(GOOD.replace("price: 9500", "price: !!python/object/apply:os.system [exit 1]"))
    assert str(error) == (
        "line 13: products[0].price: "
        "the YAML tag !!python/object/apply:os.system is not allowed in a catalog file"
    )


def test_a_custom_tag_on_text_is_refused() -> None:
    error = refusal(GOOD.replace("name: 视频会员", "name: !secret video"))
    assert (error.line, error.field) == (6, "categories[1].name")
    assert "!secret" in error.problem


def test_a_merge_key_is_an_unknown_field() -> None:
    error = refusal(GOOD.replace("    stars: 950\n", "    <<: {stars: 950}\n"))
    assert (error.line, error.field) == (14, "products[0].<<")


def test_traditional_chinese_texts_are_optional_and_read_where_written() -> None:
    spec = parse_catalog(
        GOOD.replace(
            "{zh: 游戏点卡, en: Game cards}", "{zh: 游戏点卡, zh-Hant: 遊戲點數卡, en: Game cards}"
        ).replace("{zh: 国区钱包, en:", "{zh: 国区钱包, zh-Hant: 中國區錢包, en:")
    )
    assert spec.categories[0].name_zh_hant == "遊戲點數卡"
    assert spec.categories[1].name_zh_hant == ""
    assert spec.products[0].description_zh_hant == "中國區錢包"
    assert spec.products[0].name_zh_hant == spec.products[0].redeem_zh_hant == ""


def test_a_misspelt_traditional_chinese_language_is_refused_naming_the_right_one() -> None:
    error = refusal(GOOD.replace("en: Game cards", "zh-hant: 遊戲點數卡, en: Game cards"))
    assert str(error) == "line 3: categories[0].name.zh-hant: unknown field (did you mean zh-Hant?)"
