"""An entry's answer in the buyer's language, with the shop's settings filled in."""

from __future__ import annotations

from collections.abc import Mapping

from faq.knowledge import Entry, placeholders


def render_answer(entry: Entry, language: str, values: Mapping[str, str]) -> str:
    """The answer as plain text (the caller escapes it for HTML, like any other value).

    Placeholders were checked against `faq.knowledge.PLACEHOLDERS` when the knowledge base was
    loaded; a value missing here is a wiring mistake and raises KeyError naming it.
    """
    text = entry.answer[language]
    missing = [name for name in placeholders(text) if name not in values]
    if missing:
        raise KeyError(f"answer {entry.id}.{language} needs a value for {{{missing[0]}}}")
    return text.format_map({name: str(values[name]) for name in placeholders(text)})
