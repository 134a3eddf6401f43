"""Telegram's HTML parse mode as the sandbox enforces it."""

from __future__ import annotations

import pytest

from sandbox.errors import BotApiError
from sandbox.html_entities import entities_to_html, parse_html


def test_plain_text_comes_back_unchanged_with_no_entities() -> None:
    assert parse_html("just text > more").text == "just text > more"
    assert parse_html("just text").entities == ()


def test_allowed_tags_become_entities_in_utf16_offsets() -> None:
    parsed = parse_html('😀 <b>bold <i>both</i></b> <a href="https://t.me/x?a=1&amp;b=2">link</a>')
    assert parsed.text == "😀 bold both link"
    assert list(parsed.entities) == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://t.me/x?a=1&b=2"},
    ]


def test_every_allowed_tag_is_accepted() -> None:
    markup = (
        "<b>1</b><strong>2</strong><i>3</i><em>4</em><u>5</u><ins>6</ins><s>7</s>"
        '<strike>8</strike><del>9</del><span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>'
        "<code>c</code><pre>d</pre><blockquote>e</blockquote>"
    )
    parsed = parse_html(markup)
    assert parsed.text == "123456789abcde"
    assert len(parsed.entities) == 14


def test_a_language_on_code_inside_pre_marks_the_pre() -> None:
    parsed = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert list(parsed.entities) == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"}
    ]


def test_named_and_numeric_entities_are_decoded() -> None:
    assert parse_html("&lt;a&gt; &amp; &quot;q&quot; &#8364; &#x41;").text == '<a> & "q" € A'


@pytest.mark.parametrize(
    "markup",
    ["a < b", "fish & chips", "&nbsp;", "<br>", "<script>x</script>", "<span>x</span>"],
)
def test_unescaped_characters_and_unknown_markup_are_refused(markup: str) -> None:
    with pytest.raises(BotApiError) as refused:
        parse_html(markup)
    assert refused.value.error_code == 400
    assert refused.value.description.startswith("Bad Request: can't parse entities: ")


def test_badly_nested_tags_are_refused_with_telegrams_words() -> None:
    with pytest.raises(BotApiError, match=r'Unmatched end tag at byte offset 8, expected "</i>"'):
        parse_html("<b>x<i>y</b></i>")


def test_an_unclosed_tag_is_refused() -> None:
    with pytest.raises(BotApiError, match='Can\'t find end tag corresponding to start tag "b"'):
        parse_html("<b>bold")


def test_a_stray_end_tag_is_refused() -> None:
    with pytest.raises(BotApiError, match="Unexpected end tag"):
        parse_html("text</b>")


def test_length_is_what_remains_after_parsing() -> None:
    markup = "<b>" + "x" * 4096 + "</b>"
    assert len(markup) > 4096
    assert len(parse_html(markup).text) == 4096
    assert len(parse_html("&amp;" * 10).text) == 10


def test_entities_render_back_to_escaped_html() -> None:
    parsed = parse_html("<b>a &lt; b</b> &amp; <i>c</i>")
    assert entities_to_html(parsed.text, parsed.entities) == "<b>a &lt; b</b> &amp; <i>c</i>"
