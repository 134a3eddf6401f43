"""Telegram's HTML parse mode: markup to plain text and entities, and entities back to HTML.

Stricter than Telegram in one way on purpose: a bare ``&`` that starts no entity is an error,
because a bot that forgets to escape user text must fail here rather than in production.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from typing import Any

from sandbox.errors import entities_error

Entity = dict[str, Any]

# Tag name -> entity type. `span` is a spoiler only with class="tg-spoiler" (checked below).
_TAG_ENTITY: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
# Entities that can contain nothing but text (a `code` directly inside `pre` names a language).
_OPAQUE = {"code", "pre"}

_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z]+));")
_START_TAG_RE = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_END_TAG_RE = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ATTR_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:.-]*")
_UNQUOTED_VALUE_RE = re.compile(r"[^\s\"'=<>`]+")


@dataclass(frozen=True)
class ParsedText:
    """Plain text as the user sees it, with entities in UTF-16 code units like the Bot API."""

    text: str
    entities: tuple[Entity, ...] = ()


@dataclass
class _OpenTag:
    name: str
    byte_offset: int
    start: int  # UTF-16 offset of the first character inside
    attrs: dict[str, str] = field(default_factory=dict)
    language: str | None = None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(markup: str) -> ParsedText:
    """Parse ``parse_mode="HTML"`` text, raising Telegram's "can't parse entities" error."""
    parser = _Parser(markup)
    return parser.run()


class _Parser:
    def __init__(self, markup: str) -> None:
        self.markup = markup
        self.pos = 0
        self.out: list[str] = []
        self.offset = 0  # UTF-16 length of the text produced so far
        self.stack: list[_OpenTag] = []
        self.entities: list[Entity] = []

    def byte_offset(self, index: int) -> int:
        return len(self.markup[:index].encode("utf-8"))

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.offset += utf16_len(chunk)

    def run(self) -> ParsedText:
        markup = self.markup
        while self.pos < len(markup):
            char = markup[self.pos]
            if char == "&":
                self.emit(self.read_entity())
            elif char == "<" and markup.startswith("</", self.pos):
                self.read_end_tag()
            elif char == "<":
                self.read_start_tag()
            else:
                nxt = _next_special(markup, self.pos)
                self.emit(markup[self.pos : nxt])
                self.pos = nxt
        if self.stack:
            raise entities_error(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), tuple(self.entities))

    def read_entity(self) -> str:
        start = self.pos
        match = _ENTITY_RE.match(self.markup, start)
        if match is None:
            raise entities_error(
                f'Unescaped "&" at byte offset {self.byte_offset(start)}: write it as &amp;'
            )
        self.pos = match.end()
        return _decode_entity(match, self.byte_offset(start))

    def read_end_tag(self) -> None:
        start = self.pos
        match = _END_TAG_RE.match(self.markup, start)
        if match is None:
            raise entities_error(f"Unclosed end tag at byte offset {self.byte_offset(start)}")
        name = match.group(1).lower()
        if not self.stack:
            raise entities_error(f"Unexpected end tag at byte offset {self.byte_offset(start)}")
        top = self.stack[-1]
        if top.name != name:
            raise entities_error(
                f"Unmatched end tag at byte offset {self.byte_offset(start)}, "
                f'expected "</{top.name}>", found "</{name}>"'
            )
        self.pos = match.end()
        self.stack.pop()
        self.close(top)

    def read_start_tag(self) -> None:
        start = self.pos
        match = _START_TAG_RE.match(self.markup, start)
        if match is None:
            raise entities_error(
                f'Unexpected "<" at byte offset {self.byte_offset(start)}: write it as &lt;'
            )
        name = match.group(1).lower()
        if name not in _TAG_ENTITY:
            raise entities_error(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(start)}'
            )
        self.pos = match.end()
        attrs = self.read_attributes(start)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise entities_error(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(start)}'
            )
        tag = _OpenTag(name, self.byte_offset(start), self.offset, attrs)
        if name == "code" and self.stack and self.stack[-1].name == "pre":
            language = attrs.get("class", "")
            if language.startswith("language-") and len(language) > len("language-"):
                self.stack[-1].language = language.removeprefix("language-")
        self.stack.append(tag)

    def read_attributes(self, tag_start: int) -> dict[str, str]:
        markup = self.markup
        attrs: dict[str, str] = {}
        while True:
            while self.pos < len(markup) and markup[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(markup):
                raise entities_error(
                    f"Unclosed start tag at byte offset {self.byte_offset(tag_start)}"
                )
            if markup[self.pos] == ">":
                self.pos += 1
                return attrs
            name_match = _ATTR_NAME_RE.match(markup, self.pos)
            if name_match is None:
                raise entities_error(
                    f"Unclosed start tag at byte offset {self.byte_offset(tag_start)}"
                )
            attr = name_match.group(0).lower()
            self.pos = name_match.end()
            value = ""
            if self.pos < len(markup) and markup[self.pos] == "=":
                self.pos += 1
                value = self.read_attribute_value(tag_start)
            attrs[attr] = value

    def read_attribute_value(self, tag_start: int) -> str:
        markup = self.markup
        if self.pos < len(markup) and markup[self.pos] in "\"'":
            quote = markup[self.pos]
            end = markup.find(quote, self.pos + 1)
            if end < 0:
                raise entities_error(
                    f"Unclosed start tag at byte offset {self.byte_offset(tag_start)}"
                )
            raw = markup[self.pos + 1 : end]
            raw_start = self.pos + 1
            self.pos = end + 1
        else:
            match = _UNQUOTED_VALUE_RE.match(markup, self.pos)
            if match is None:
                raise entities_error(
                    f"Unclosed start tag at byte offset {self.byte_offset(tag_start)}"
                )
            raw = match.group(0)
            raw_start = self.pos
            self.pos = match.end()
        return self.decode_attribute(raw, raw_start)

    def decode_attribute(self, raw: str, raw_start: int) -> str:
        parts: list[str] = []
        index = 0
        while index < len(raw):
            amp = raw.find("&", index)
            if amp < 0:
                parts.append(raw[index:])
                break
            parts.append(raw[index:amp])
            match = _ENTITY_RE.match(raw, amp)
            where = self.byte_offset(raw_start + amp)
            if match is None:
                raise entities_error(f'Unescaped "&" at byte offset {where}: write it as &amp;')
            parts.append(_decode_entity(match, where))
            index = match.end()
        return "".join(parts)

    def close(self, tag: _OpenTag) -> None:
        length = self.offset - tag.start
        if length == 0:
            return  # Telegram drops empty entities
        if tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            return  # only names the language of the enclosing pre
        if any(open_tag.name in _OPAQUE for open_tag in self.stack):
            return  # code and pre contain no other entity; Telegram drops the inner one
        entity_type = _TAG_ENTITY[tag.name]
        if entity_type == "blockquote" and any(t.name == "blockquote" for t in self.stack):
            return  # blockquotes cannot be nested
        entity: Entity = {"type": entity_type, "offset": tag.start, "length": length}
        if tag.name == "a":
            href = tag.attrs.get("href", "")
            if not href or any(t.name == "a" for t in self.stack):
                return
            entity["url"] = href
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        elif tag.name == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        self.entities.append(entity)


def _next_special(markup: str, pos: int) -> int:
    ends = [i for i in (markup.find("<", pos), markup.find("&", pos)) if i >= 0]
    return min(ends) if ends else len(markup)


def _decode_entity(match: re.Match[str], byte_offset: int) -> str:
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        if name not in _NAMED_ENTITIES:
            raise entities_error(
                f'Unsupported HTML entity "&{name};" at byte offset {byte_offset}; '
                "only &lt; &gt; &amp; &quot; and numeric entities are supported"
            )
        return _NAMED_ENTITIES[name]
    code_point = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code_point == 0 or code_point > 0x10FFFF or 0xD800 <= code_point <= 0xDFFF:
        raise entities_error(f"Invalid numeric HTML entity at byte offset {byte_offset}")
    return chr(code_point)


# --- entities back to HTML, for showing a message to a person or a test ----------------------

_ENTITY_TAGS: dict[str, str] = {
    "bold": "b",
    "italic": "i",
    "underline": "u",
    "strikethrough": "s",
    "spoiler": "tg-spoiler",
    "code": "code",
    "pre": "pre",
    "text_link": "a",
    "text_mention": "a",
    "blockquote": "blockquote",
    "expandable_blockquote": "blockquote",
}


def _open_tag(entity: Entity) -> str:
    kind = entity["type"]
    if kind == "text_link":
        return f'<a href="{escape(str(entity.get("url", "")), quote=True)}">'
    if kind == "text_mention":
        user_id = int(entity.get("user", {}).get("id", 0))
        return f'<a href="tg://user?id={user_id}">'
    if kind == "pre" and entity.get("language"):
        language = escape(str(entity["language"]), quote=True)
        return f'<pre><code class="language-{language}">'
    if kind == "expandable_blockquote":
        return "<blockquote expandable>"
    return f"<{_ENTITY_TAGS[kind]}>"


def _close_tag(entity: Entity) -> str:
    if entity["type"] == "pre" and entity.get("language"):
        return "</code></pre>"
    return f"</{_ENTITY_TAGS[entity['type']]}>"


def entities_to_html(text: str, entities: list[Entity] | tuple[Entity, ...]) -> str:
    """Canonical HTML for text and entities: every character escaped, only Telegram's tags."""
    units = text.encode("utf-16-le")
    total = len(units) // 2
    shown = sorted(
        (e for e in entities if e.get("type") in _ENTITY_TAGS and int(e.get("length", 0)) > 0),
        key=lambda e: (int(e["offset"]), -int(e["length"])),
    )
    boundaries = {0, total}
    for entity in shown:
        start = max(0, min(total, int(entity["offset"])))
        boundaries.update({start, max(start, min(total, start + int(entity["length"])))})
    points = sorted(boundaries)
    out: list[str] = []
    stack: list[Entity] = []
    pending = list(shown)
    for index, point in enumerate(points):
        ending = [e for e in stack if int(e["offset"]) + int(e["length"]) <= point]
        if ending:
            # Close down to the deepest ending entity, then reopen the ones that go on.
            depth = min(stack.index(e) for e in ending)
            reopen = [e for e in stack[depth:] if e not in ending]
            for entity in reversed(stack[depth:]):
                out.append(_close_tag(entity))
            del stack[depth:]
            for entity in reopen:
                out.append(_open_tag(entity))
                stack.append(entity)
        while pending and int(pending[0]["offset"]) <= point:
            entity = pending.pop(0)
            out.append(_open_tag(entity))
            stack.append(entity)
        if index + 1 < len(points):
            chunk = units[point * 2 : points[index + 1] * 2].decode("utf-16-le", "replace")
            out.append(escape(chunk, quote=False))
    for entity in reversed(stack):
        out.append(_close_tag(entity))
    return "".join(out)
