"""Key files: which lines become keys, which are refused and why, and which files are refused."""

from __future__ import annotations

import pytest

from store.formats.key_file import (
    MAX_FILE_BYTES,
    MAX_KEY_LENGTH,
    KeyFileError,
    KeyLine,
    ParsedKeyFile,
    RefusalReason,
    RefusedLine,
    parse_key_file,
)


def lines(*texts: str) -> bytes:
    return "".join(text + "\n" for text in texts).encode()


def test_each_line_of_a_text_file_is_a_stripped_key() -> None:
    assert parse_key_file("keys.txt", lines("AAAA-1111", "  BBBB-2222\t", "CCCC 3333")) == (
        ParsedKeyFile(
            keys=(KeyLine(1, "AAAA-1111"), KeyLine(2, "BBBB-2222"), KeyLine(3, "CCCC 3333")),
            refused=(),
        )
    )


def test_each_refused_line_is_reported_with_its_number_and_reason() -> None:
    parsed = parse_key_file(
        "keys.txt",
        lines(
            "AAAA-1111",
            "",
            "   ",
            "A" * (MAX_KEY_LENGTH + 1),
            "A" * MAX_KEY_LENGTH,
            " AAAA-1111 ",
            "BELL\x07KEY",
            "ZERO\u200bWIDTH",
            "BROKEN\ufffdKEY",
            "BBBB-2222",
        ),
    )
    assert parsed.keys == (
        KeyLine(1, "AAAA-1111"),
        KeyLine(5, "A" * MAX_KEY_LENGTH),
        KeyLine(10, "BBBB-2222"),
    )
    assert parsed.refused == (
        RefusedLine(2, RefusalReason.BLANK),
        RefusedLine(3, RefusalReason.BLANK),
        RefusedLine(4, RefusalReason.TOO_LONG),
        RefusedLine(6, RefusalReason.DUPLICATE_IN_FILE),
        RefusedLine(7, RefusalReason.CONTROL_CHARS),
        RefusedLine(8, RefusalReason.CONTROL_CHARS),
        RefusedLine(9, RefusalReason.NOT_TEXT),
    )


def test_refusal_reasons_read_as_sentences() -> None:
    assert RefusedLine(4, RefusalReason.TOO_LONG).reason == "longer than 256 characters"
    assert RefusedLine(6, RefusalReason.DUPLICATE_IN_FILE) == RefusedLine(
        6, "repeats an earlier line of this file"
    )


def test_keys_are_nfkc_normalised_before_duplicates_are_found() -> None:
    fullwidth = "\uff21\uff22\uff23-\uff11\uff12\uff13"  # as a CJK input method types it
    parsed = parse_key_file("keys.txt", lines(fullwidth, "ABC-123", "\u3000abc-123\u3000"))
    assert parsed.keys == (KeyLine(1, "ABC-123"), KeyLine(3, "abc-123"))
    assert parsed.refused == (RefusedLine(2, RefusalReason.DUPLICATE_IN_FILE),)


def test_crlf_line_ends_and_a_byte_order_mark_are_ignored() -> None:
    parsed = parse_key_file("keys.txt", b"\xef\xbb\xbfAAAA-1111\r\nBBBB-2222\r\n")
    assert parsed == ParsedKeyFile((KeyLine(1, "AAAA-1111"), KeyLine(2, "BBBB-2222")), ())


def test_a_lone_carriage_return_ends_a_line() -> None:
    parsed = parse_key_file("keys.txt", b"AAAA-1111\rBBBB-2222")
    assert parsed.keys == (KeyLine(1, "AAAA-1111"), KeyLine(2, "BBBB-2222"))


def test_a_file_without_a_final_newline_keeps_its_last_key() -> None:
    parsed = parse_key_file("keys.txt", b"AAAA-1111\nBBBB-2222")
    assert parsed == ParsedKeyFile((KeyLine(1, "AAAA-1111"), KeyLine(2, "BBBB-2222")), ())


def test_blank_lines_at_the_end_of_a_file_are_ignored() -> None:
    parsed = parse_key_file("keys.txt", b"AAAA-1111\n\n  \r\n\n")
    assert parsed == ParsedKeyFile((KeyLine(1, "AAAA-1111"),), ())


def test_a_blank_line_between_keys_is_still_refused() -> None:
    parsed = parse_key_file("keys.txt", b"AAAA-1111\n\nBBBB-2222\n\n")
    assert parsed.refused == (RefusedLine(2, RefusalReason.BLANK),)
    assert [k.key for k in parsed.keys] == ["AAAA-1111", "BBBB-2222"]


def test_blank_rows_at_the_end_of_a_csv_file_are_ignored() -> None:
    parsed = parse_key_file("keys.csv", b"key,note\nAAAA-1111,x\n,\n\n")
    assert parsed == ParsedKeyFile((KeyLine(2, "AAAA-1111"),), ())


def test_a_csv_file_takes_keys_from_its_key_column_by_physical_line() -> None:
    content = (
        b"supplier,KEY,note\r\n"
        b'"Acme, Inc.",AAAA-1111,first\r\n'
        b'Acme,"BBBB,2222","two\r\nlines"\r\n'
        b"Acme,CCCC-3333\r\n"
        b"Acme,,empty\r\n"
        b"Acme, AAAA-1111 ,again\r\n"
    )
    parsed = parse_key_file("Stock.CSV", content)
    assert parsed.keys == (
        KeyLine(2, "AAAA-1111"),
        KeyLine(3, "BBBB,2222"),
        KeyLine(5, "CCCC-3333"),
    )
    assert parsed.refused == (
        RefusedLine(6, RefusalReason.BLANK),
        RefusedLine(7, RefusalReason.DUPLICATE_IN_FILE),
    )


def test_a_csv_row_too_short_to_reach_the_key_column_is_blank() -> None:
    parsed = parse_key_file("keys.csv", b"note,key\nonly a note\n,DDDD-4444\n")
    assert parsed.keys == (KeyLine(3, "DDDD-4444"),)
    assert parsed.refused == (RefusedLine(2, RefusalReason.BLANK),)


def test_a_csv_file_with_a_byte_order_mark_still_finds_its_key_column() -> None:
    parsed = parse_key_file("keys.csv", b"\xef\xbb\xbfkey\nAAAA-1111\n")
    assert parsed.keys == (KeyLine(2, "AAAA-1111"),)


def test_a_text_file_named_otherwise_treats_commas_as_part_of_the_key() -> None:
    parsed = parse_key_file("keys.txt", b"key,note\n")
    assert parsed.keys == (KeyLine(1, "key,note"),)


def test_a_csv_file_without_a_key_column_is_refused_naming_the_columns_found() -> None:
    with pytest.raises(KeyFileError) as caught:
        parse_key_file("keys.csv", b"code, note\nAAAA-1111,first\n")
    assert str(caught.value) == "the CSV file has no 'key' column (columns found: code, note)"
    assert caught.value.line == 1


def test_a_csv_file_with_two_key_columns_is_refused() -> None:
    with pytest.raises(KeyFileError, match=r"more than one 'key' column \(columns found: key, Key"):
        parse_key_file("keys.csv", b"key,Key\nA,B\n")


def test_a_csv_file_with_only_a_header_is_refused() -> None:
    with pytest.raises(KeyFileError, match="header row but no keys"):
        parse_key_file("keys.csv", b"key\n")


def test_a_csv_file_with_an_unclosed_quote_is_refused_rather_than_merging_lines() -> None:
    with pytest.raises(KeyFileError) as caught:
        parse_key_file("keys.csv", b'key\nAAAA-1111\n"BBBB-2222\nCCCC-3333\n')
    assert caught.value.line == 3
    assert str(caught.value).startswith("not valid CSV from line 3: ")


def test_invalid_utf8_is_refused_naming_the_byte_offset_and_line() -> None:
    with pytest.raises(KeyFileError) as caught:
        parse_key_file("keys.txt", b"AAAA-1111\nBBBB\xff2222\n")
    assert str(caught.value) == (
        "not valid UTF-8 text: byte 0xFF at offset 14 (line 2); save the file as UTF-8"
    )
    assert caught.value.line == 2


def test_a_gbk_file_is_refused_as_not_utf8() -> None:
    with pytest.raises(KeyFileError, match=r"not valid UTF-8 text: .* \(line 2\)"):
        parse_key_file("keys.txt", "AAAA-1111\n卡密-2222\n".encode("gbk"))


def test_the_offset_of_invalid_utf8_counts_the_byte_order_mark() -> None:
    with pytest.raises(KeyFileError, match=r"byte 0xC3 at offset 3 \(line 1\)"):
        parse_key_file("keys.txt", b"\xef\xbb\xbf\xc3(\n")


@pytest.mark.parametrize("content", [b"", b"\n\n", b" \r\n\t", b"\xef\xbb\xbf"])
def test_an_empty_file_is_refused(content: bytes) -> None:
    with pytest.raises(KeyFileError, match=r"^the file is empty$"):
        parse_key_file("keys.txt", content)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"AAAA\x00\x01\x02", "line 1 contains a NUL byte"),
        (b"PK\x03\x04\x14\x00", "this is a zip or Excel file"),
        ("key\nAAAA\n".encode("utf-32"), "the file is UTF-32 text"),
    ],
)
def test_a_binary_file_is_refused(content: bytes, problem: str) -> None:
    with pytest.raises(KeyFileError, match=f"^{problem}"):
        parse_key_file("keys.csv", content)


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"AAAA-1111\nBBBB\x00-2222\nCCCC\x00\n", 2),
        (b"AAAA-1111\r\nBBBB-2222\rCCCC\x00\n", 3),
        (b"\x00AAAA\n", 1),
        ("AAAA-1111\nBBBB-2222\nCC\x00CC\n".encode("utf-16"), 3),
    ],
)
def test_a_nul_byte_is_refused_naming_the_first_line_that_holds_one(
    content: bytes, line: int
) -> None:
    with pytest.raises(KeyFileError) as caught:
        parse_key_file("keys.txt", content)
    assert str(caught.value) == (
        f"line {line} contains a NUL byte, so this is not a text file; "
        "upload a .txt or .csv file of keys"
    )
    assert caught.value.line == line


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("filename", ["keys.txt", "keys.csv"])
def test_utf16_without_a_byte_order_mark_is_recognised(codec: str, filename: str) -> None:
    content = "key\nAAAA-1111\n卡密-2222\nBBBB-3333\n".encode(codec)
    with pytest.raises(KeyFileError) as caught:
        parse_key_file(filename, content)
    assert str(caught.value) == "the file looks like UTF-16 without a BOM; save it as UTF-8"


def test_a_few_stray_nul_bytes_are_not_taken_for_utf16() -> None:
    content = b"AAAA-1111\n" * 20 + b"B\x00\n"
    with pytest.raises(KeyFileError, match=r"^line 21 contains a NUL byte"):
        parse_key_file("keys.txt", content)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_a_byte_order_mark_is_read_as_keys(codec: str) -> None:
    text = "AAAA-1111\r\n\r\n卡密-2222\r\n"
    bom = {"utf-16": "", "utf-16-le": "\ufeff", "utf-16-be": "\ufeff"}[codec]
    assert parse_key_file("keys.txt", (bom + text).encode(codec)) == ParsedKeyFile(
        keys=(KeyLine(1, "AAAA-1111"), KeyLine(3, "卡密-2222")),
        refused=(RefusedLine(2, RefusalReason.BLANK),),
    )


def test_a_utf16_csv_file_with_a_byte_order_mark_finds_its_key_column() -> None:
    content = "note,Key\nfirst,AAAA-1111\n".encode("utf-16")
    assert parse_key_file("keys.csv", content).keys == (KeyLine(2, "AAAA-1111"),)


def test_damaged_utf16_is_refused_naming_its_line() -> None:
    content = "AAAA-1111\nBB".encode("utf-16-le") + b"\x00\xd8" + "BB\n".encode("utf-16-le")
    with pytest.raises(KeyFileError) as caught:
        parse_key_file("keys.txt", b"\xff\xfe" + content)
    assert str(caught.value) == "not valid UTF-16 text (line 2); save the file as UTF-8"
    assert caught.value.line == 2


def test_a_file_over_50_mb_is_refused() -> None:
    with pytest.raises(KeyFileError, match="larger than 50 MB"):
        parse_key_file("keys.txt", b"A" * (MAX_FILE_BYTES + 1))


def test_a_refused_key_never_appears_in_the_error_or_result() -> None:
    parsed = parse_key_file("keys.txt", lines("SECRET\x07KEY"))
    assert "SECRET" not in repr(parsed)
