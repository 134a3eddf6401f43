"""Key files: the text or CSV file of card keys an admin or supplier uploads, split into keys.

A ``.csv`` file needs a header row with a ``key`` column (any case; other columns are ignored);
any other file holds one key per line. Files are UTF-8 (a byte-order mark is ignored), or UTF-16
with a byte-order mark (what Excel and Notepad save as "Unicode"), with ``\\n``, ``\\r\\n`` or
``\\r`` line ends. Each key is NFKC-normalised and stripped. Bad lines (blank, too long,
repeated, damaged or holding control characters) are refused one by one with their line number,
counting physical lines from 1 (a CSV header is line 1); blank lines at the very end are ignored.
A file that cannot be read as keys at all raises `KeyFileError`: a NUL character (naming the
first line with one), UTF-16 without a byte-order mark (recognised and refused rather than
guessed at), UTF-32, zip or Excel files.
Keys are never logged.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from _csv import Reader

MAX_KEY_LENGTH = 256
MAX_FILE_BYTES = 50 * 1024 * 1024

# Invisible characters that make a key look right and fail at redemption (zero-width spaces,
# direction marks) count as control characters along with C0/C1 and line separators.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_REPLACEMENT_CHARACTER = "\ufffd"


class RefusalReason(StrEnum):
    BLANK = "blank line"
    TOO_LONG = f"longer than {MAX_KEY_LENGTH} characters"
    DUPLICATE_IN_FILE = "repeats an earlier line of this file"
    # The file decoded, but the line holds U+FFFD: it was damaged by an earlier bad conversion.
    NOT_TEXT = "not valid UTF-8 text"
    CONTROL_CHARS = "contains control characters"


@dataclass(frozen=True)
class KeyLine:
    line: int
    key: str


@dataclass(frozen=True)
class RefusedLine:
    line: int
    reason: str


@dataclass(frozen=True)
class ParsedKeyFile:
    keys: tuple[KeyLine, ...]
    refused: tuple[RefusedLine, ...]


class KeyFileError(ValueError):
    """The file as a whole cannot be read as keys; `line` is set when one line is to blame."""

    def __init__(self, problem: str, *, line: int | None = None) -> None:
        super().__init__(problem)
        self.line = line


def parse_key_file(filename: str, content: bytes) -> ParsedKeyFile:
    """Split an uploaded file into keys and refused lines; raise `KeyFileError` if unreadable."""
    text = _decode(content)
    if not text or text.isspace():
        raise KeyFileError("the file is empty")
    lines = _csv_lines(text) if filename.lower().endswith(".csv") else _text_lines(text)
    return _judge(lines)


def _decode(content: bytes) -> str:
    if len(content) > MAX_FILE_BYTES:
        raise KeyFileError(
            f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB; split it into parts"
        )
    if content.startswith(b"PK\x03\x04"):
        raise KeyFileError(
            "this is a zip or Excel file, not text; save it as CSV (UTF-8) or plain text"
        )
    # UTF-32's little-endian mark begins with UTF-16's, so it is looked for first.
    if content.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise KeyFileError("the file is UTF-32 text; save it as UTF-8")
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _decode_utf16(content)
        nul = text.find("\x00")
        if nul >= 0:
            _refuse_nul(text[:nul])
        return text
    nul = content.find(b"\x00")
    if nul >= 0:
        if _looks_like_utf16(content):
            raise KeyFileError("the file looks like UTF-16 without a BOM; save it as UTF-8")
        _refuse_nul(_as_latin1(content[:nul]))
    return _decode_utf8(content)


def _decode_utf8(content: bytes) -> str:
    start = len(codecs.BOM_UTF8) if content.startswith(codecs.BOM_UTF8) else 0
    try:
        return content[start:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = start + error.start
        line = _line_after(_as_latin1(content[:offset]))
        raise KeyFileError(
            f"not valid UTF-8 text: byte 0x{content[offset]:02X} at offset {offset} "
            f"(line {line}); save the file as UTF-8",
            line=line,
        ) from None


def _decode_utf16(content: bytes) -> str:
    """UTF-16 after its byte-order mark, which says which byte of each pair comes first."""
    codec = "utf-16-le" if content.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
    body = content[len(codecs.BOM_UTF16_LE) :]
    try:
        return body.decode(codec)
    except UnicodeDecodeError as error:
        # The good text before the damage is whole code units, so it decodes; count its lines.
        line = _line_after(body[: error.start - error.start % 2].decode(codec))
        raise KeyFileError(
            f"not valid UTF-16 text (line {line}); save the file as UTF-8", line=line
        ) from None


def _looks_like_utf16(content: bytes) -> bool:
    """Many NULs, nearly all on one side of each byte pair: Latin text such as keys in UTF-16.

    In UTF-16 each ASCII character is its byte and a NUL, so a quarter of the pairs or more
    holding a NUL on the same side (and a few at least) is text, not a stray NUL in UTF-8.
    """
    sample = content[:4096]
    pairs = len(sample) // 2
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    most, fewest = max(even, odd), min(even, odd)
    return most >= 4 and most * 4 >= pairs and fewest * 10 <= most


def _refuse_nul(before: str) -> NoReturn:
    """Refuse the file for a NUL that follows the text `before`, naming the NUL's line."""
    line = _line_after(before)
    raise KeyFileError(
        f"line {line} contains a NUL byte, so this is not a text file; "
        "upload a .txt or .csv file of keys",
        line=line,
    )


def _as_latin1(content: bytes) -> str:
    # Only the line ends in it are counted; latin-1 maps each byte to one character.
    return content.decode("latin-1")


def _line_after(before: str) -> int:
    """The line (from 1) that the text after `before` is on, counting line ends as
    `_text_lines` does (``\\r\\n``, ``\\n`` and a lone ``\\r``)."""
    return before.count("\n") + before.count("\r") - before.count("\r\n") + 1


def _text_lines(text: str) -> Iterator[tuple[int, str]]:
    # A lone "\r" (old Mac files) ends a line too, as it does for the CSV reader and in editors.
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()  # blank lines at the very end are an editor's habit, not missing keys
    return enumerate(lines, start=1)


def _csv_lines(text: str) -> Iterator[tuple[int, str]]:
    """The `key` cell of each row, numbered by the physical line the row starts on."""
    # strict: an unclosed quote would otherwise swallow the rest of the file into one cell.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header, header_line = _csv_header(reader)
    names = [name.strip().lower() for name in header]
    if names.count("key") != 1:
        found = ", ".join(name.strip() for name in header if name.strip()) or "none"
        problem = "more than one 'key' column" if "key" in names else "no 'key' column"
        raise KeyFileError(f"the CSV file has {problem} (columns found: {found})", line=header_line)
    column = names.index("key")
    rows = list(_csv_rows(reader))
    while rows and not any(cell.strip() for cell in rows[-1][1]):
        rows.pop()  # blank rows at the very end are an editor's habit, not missing keys
    if not rows:
        raise KeyFileError("the CSV file has a header row but no keys", line=header_line)
    return ((line, row[column] if column < len(row) else "") for line, row in rows)


def _csv_header(reader: Reader) -> tuple[list[str], int]:
    for line, row in _csv_rows(reader):
        if any(cell.strip() for cell in row):
            return row, line
    raise KeyFileError("the CSV file has no header row")


def _csv_rows(reader: Reader) -> Iterator[tuple[int, list[str]]]:
    line = reader.line_num + 1
    try:
        for row in reader:
            yield line, row
            line = reader.line_num + 1
    except csv.Error as error:
        raise KeyFileError(f"not valid CSV from line {line}: {error}", line=line) from None


def _judge(lines: Iterator[tuple[int, str]]) -> ParsedKeyFile:
    keys: list[KeyLine] = []
    refused: list[RefusedLine] = []
    first_line: dict[str, int] = {}
    for number, raw in lines:
        key = unicodedata.normalize("NFKC", raw).strip()
        reason = _refusal(key)
        if reason is None and key in first_line:
            reason = RefusalReason.DUPLICATE_IN_FILE
        if reason is None:
            first_line[key] = number
            keys.append(KeyLine(number, key))
        else:
            refused.append(RefusedLine(number, reason))
    return ParsedKeyFile(tuple(keys), tuple(refused))


def _refusal(key: str) -> RefusalReason | None:
    if not key:
        return RefusalReason.BLANK
    if len(key) > MAX_KEY_LENGTH:
        return RefusalReason.TOO_LONG
    if _REPLACEMENT_CHARACTER in key:
        return RefusalReason.NOT_TEXT
    # isprintable() runs in C and is true for almost every key; only the rest is looked at closely.
    if not key.isprintable() and any(
        unicodedata.category(character) in _CONTROL_CATEGORIES for character in key
    ):
        return RefusalReason.CONTROL_CHARS
    return None
