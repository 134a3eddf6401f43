"""The bot's texts live in gettext catalogs, one per language, extracted from the code by Babel:
every text the code says is written in every language, with the same placeholders and tags,
and the compiled catalogs the bot reads are those of the .po files people edit."""

from __future__ import annotations

import io
import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest
import yaml
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from handlers.text import DOMAIN, KEYWORDS, LOCALE_DIRECTORY, LOCALES
from store.domain.model import Language

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("bot", "handlers")
_TAG = re.compile(r"</?([a-zA-Z-]+)[^>]*>")


def used_keys() -> set[str]:
    """The text keys the code names, as `make catalogs` extracts them."""
    keys: set[str] = set()
    for source in SOURCES:
        for _, _, message, _, _ in extract_from_dir(
            ROOT / source, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            keys.add(message if isinstance(message, str) else message[0])
    return keys


def catalog(language: Language) -> Catalog:
    path = LOCALE_DIRECTORY / LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as file:
        return read_po(file, locale=LOCALES[language])


def texts(language: Language) -> dict[str, str]:
    return {str(m.id): str(m.string) for m in catalog(language) if m.id}


def placeholders(text: str) -> Counter[str]:
    return Counter(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def problems(used: Iterable[str], catalogs: Mapping[str, Mapping[str, str]]) -> list[str]:
    """What is wrong with these catalogs for the keys the code uses, one line each."""
    found: list[str] = []
    used = set(used)
    reference_name, reference = next(iter(catalogs.items()))
    for name, texts_ in catalogs.items():
        for key in sorted(used):
            if not texts_.get(key):
                found.append(f"{name}: {key} has no translation")
        for key in sorted(set(texts_) - used):
            found.append(f"{name}: {key} is in the catalog but no code says it")
        for key in sorted(k for k in used & set(reference) if texts_.get(k)):
            if placeholders(texts_[key]) != placeholders(reference[key]):
                found.append(f"{name}: {key} has other placeholders than {reference_name}")
            if Counter(_TAG.findall(texts_[key])) != Counter(_TAG.findall(reference[key])):
                found.append(f"{name}: {key} has other HTML tags than {reference_name}")
    return found


def test_every_text_the_code_says_is_written_in_every_language_with_the_same_placeholders() -> None:
    catalogs = {language.value: texts(language) for language in Language}
    assert problems(used_keys(), catalogs) == []


def test_a_missing_translation_a_stale_text_and_a_changed_placeholder_are_each_caught() -> None:
    catalogs = {
        "zh": {"greet": "你好 {name}", "old": "旧", "bold": "<b>粗</b>"},
        "en": {"greet": "Hi {nam}", "bold": "bold", "old": "old"},
        "zh-hant": {"greet": "", "bold": "<b>粗</b>", "old": "舊"},
    }
    assert problems({"greet", "bold"}, catalogs) == [
        "zh: old is in the catalog but no code says it",
        "en: old is in the catalog but no code says it",
        "en: bold has other HTML tags than zh",
        "en: greet has other placeholders than zh",
        "zh-hant: greet has no translation",
        "zh-hant: old is in the catalog but no code says it",
    ]


@pytest.mark.parametrize("language", list(Language), ids=lambda language: language.value)
def test_the_compiled_catalog_is_the_one_its_po_file_compiles_to(language: Language) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalog(language))
    path = LOCALE_DIRECTORY / LOCALES[language] / "LC_MESSAGES" / f"{DOMAIN}.mo"
    assert path.read_bytes() == compiled.getvalue(), "run `make catalogs` after editing a .po file"


def test_no_catalog_entry_is_fuzzy_which_would_leave_it_out_of_the_compiled_catalog() -> None:
    fuzzy = [
        (lang.value, str(m.id)) for lang in Language for m in catalog(lang) if m.id and m.fuzzy
    ]
    assert fuzzy == []


def test_every_faq_answer_is_written_in_traditional_chinese_by_a_person_not_converted() -> None:
    unwritten = []
    for path in sorted((ROOT / "faq" / "knowledge").glob("*.yaml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["entries"]:
            answer = entry.get("answer")
            if answer is not None and not answer.get("zh-Hant"):
                unwritten.append(f"{path.name}: {entry['id']}")
    assert unwritten == []
