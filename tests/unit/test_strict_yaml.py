"""Strict YAML: core-schema scalars, a budget of aliases, a size cap, plain data only."""

from __future__ import annotations

import pytest

from config.strict_yaml import MAX_ALIASES, StrictYamlError, compose, load

LIMIT = 1024 * 1024


def refusal(text: str, max_bytes: int = LIMIT) -> StrictYamlError:
    with pytest.raises(StrictYamlError) as caught:
        load(text, max_bytes=max_bytes)
    assert "\n" not in str(caught.value)
    return caught.value


def billion_laughs() -> str:
    """Eight levels of nine aliases each: some 340 bytes that would expand to 9**9 strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for this, previous in zip("bcdefghi", "abcdefgh", strict=True):
        lines.append(f"{this}: &{this} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_plain_scalars_are_typed_by_the_yaml_1_2_core_schema() -> None:
    data = load(
        "int: 12\nnegative: -3\nfloat: 1.5\nyes_: true\nno_: False\nnothing: ~\nalso: null\n"
        "empty:\nquoted: '12'\n",
        max_bytes=LIMIT,
    )
    assert data == {
        "int": 12,
        "negative": -3,
        "float": 1.5,
        "yes_": True,
        "no_": False,
        "nothing": None,
        "also": None,
        "empty": None,
        "quoted": "12",
    }


@pytest.mark.parametrize(
    "written",
    ["1:40", "0x64", "0o17", "1_000", "yes", "no", "on", "off", "y", "2026-11-25", "1_0.5", "="],
)
def test_yaml_1_1_spellings_stay_text(written: str) -> None:
    assert load(f"value: {written}\n", max_bytes=LIMIT) == {"value": written}


def test_a_decimal_integer_with_leading_zeros_is_read_in_base_10() -> None:
    # YAML 1.1 read 010 as octal 8; the core schema reads it as ten.
    assert load("value: 010\n", max_bytes=LIMIT) == {"value": 10}


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("value: !!int 0x64\n", 1),
        ("value: !!bool yes\n", 1),
        ("value: !!float 1:30\n", 1),
        ("a: 1\nvalue: !!null nil\n", 2),
        ("a: 1\nvalue: !!map [1, 2]\n", 2),
        ("a: 1\nvalue: !!seq {a: 1}\n", 2),
    ],
)
def test_an_explicit_scalar_tag_still_needs_the_core_spelling(text: str, line: int) -> None:
    error = refusal(text)
    assert error.line == line
    assert " not " in error.problem


@pytest.mark.parametrize(
    "tag", ["!!python/object/apply:os.system [echo]", "!!set {a, b}", "!!binary aGk=", "!secret x"]
)
def test_tags_other_than_plain_data_are_refused(tag: str) -> None:
    error = refusal(f"first: 1\nvalue: {tag}\n")
    assert error.line == 2
    assert "is not allowed" in error.problem


def test_a_merge_key_is_only_text() -> None:
    assert load("a: {<<: {b: 1}}\n", max_bytes=LIMIT) == {"a": {"<<": {"b": 1}}}


@pytest.mark.parametrize(
    ("text", "kind"),
    [("[a]: 1\n", "a list"), ("{a: 1}: 1\n", "a mapping"), ("x:\n  ? [a, b]\n  : 1\n", "a list")],
)
def test_a_mapping_key_that_is_not_a_scalar_is_refused_on_its_line(text: str, kind: str) -> None:
    error = refusal(text)
    assert error.line == text.count("\n", 0, text.index("[" if "[" in text else "{")) + 1
    assert error.problem == f"a key must be text or a number, not {kind}"


def test_a_repeated_key_is_refused_naming_both_lines() -> None:
    error = refusal("a: 1\nb: 2\na: 3\n")
    assert str(error) == "line 3: the key 'a' is repeated (first on line 1)"


def test_up_to_the_alias_budget_is_allowed() -> None:
    text = "base: &b {x: 1}\n" + "".join(f"k{n}: *b\n" for n in range(MAX_ALIASES))
    data = load(text, max_bytes=LIMIT)
    assert isinstance(data, dict) and data[f"k{MAX_ALIASES - 1}"] == {"x": 1}


def test_one_alias_over_the_budget_is_refused_on_its_line() -> None:
    text = "base: &b {x: 1}\n" + "".join(f"k{n}: *b\n" for n in range(MAX_ALIASES + 1))
    error = refusal(text)
    assert error.line == MAX_ALIASES + 2
    assert error.problem.startswith(f"more than {MAX_ALIASES} aliases (*name)")


def test_a_billion_laughs_is_refused_before_anything_expands() -> None:
    text = billion_laughs()
    assert len(text.encode()) < 400
    error = refusal(text)
    assert error.line == 2
    assert error.problem.startswith(f"more than {MAX_ALIASES} aliases")


def test_the_alias_budget_holds_when_only_composing() -> None:
    with pytest.raises(StrictYamlError, match="aliases"):
        compose(billion_laughs(), max_bytes=LIMIT)


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    error = refusal("a: &x [1, *x]\n")
    assert (error.line, error.problem) == (1, "the alias *x is inside its own anchor &x")


def test_a_text_over_the_size_cap_is_refused_naming_the_cap() -> None:
    error = refusal("a: " + "x" * 100 + "\n", max_bytes=100)
    assert str(error) == "the file is larger than 100 bytes (it has 104 bytes); split it or trim it"


def test_the_size_cap_counts_utf8_bytes_not_characters() -> None:
    text = "a: " + "卡" * 40 + "\n"  # 44 characters, 124 bytes
    assert refusal(text, max_bytes=100).problem.startswith("the file is larger than 100 bytes")


def test_the_size_cap_is_given_in_megabytes_when_it_is_whole_megabytes() -> None:
    error = refusal("a: " + "x" * LIMIT + "\n")
    assert error.problem.startswith("the file is larger than 1 MB (it has 1048580 bytes)")


def test_nesting_too_deeply_is_refused_without_a_recursion_error() -> None:
    error = refusal("[" * 5000 + "]" * 5000)
    assert error.line == 1
    assert "nested more than" in error.problem


@pytest.mark.parametrize(
    ("text", "line"),
    [("a: [1\n", 2), ("a: 1\n b: 2\n", 2), ("a: 1\n---\nb: 2\n", 2), ("a: \x07\n", 1)],
)
def test_a_syntax_error_is_refused_with_its_line(text: str, line: int) -> None:
    error = refusal(text)
    assert error.line == line
    assert error.problem.startswith("invalid YAML: ")


def test_an_empty_text_is_none() -> None:
    assert load("# nothing\n", max_bytes=LIMIT) is None
