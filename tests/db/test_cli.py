"""The admin command line: catalog load, stock import and status, wallet credit."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from bot.cli import main

CATALOG = Path(__file__).parents[2] / "bot" / "demo_catalog.yaml"


def run(environ: dict[str, str], *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), environ, out)
    return code, out.getvalue()


def test_loading_the_same_catalog_twice_changes_nothing(environ: dict[str, str]) -> None:
    assert run(environ, "catalog", "load", str(CATALOG)) == (
        0,
        "catalog loaded: 8 created, 0 updated, 0 unchanged\n",
    )
    assert run(environ, "catalog", "load", str(CATALOG)) == (
        0,
        "catalog loaded: 0 created, 0 updated, 8 unchanged\n",
    )


def test_a_malformed_catalog_is_refused_whole_naming_line_and_field(
    environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "categories:\n  - id: game\n    name: {zh: 游戏, en: Games}\nproducts:\n"
        "  - sku: A\n    category: game\n    name: {zh: 甲, en: A}\n    price: 19.99\n"
    )
    code, _ = run(environ, "catalog", "load", str(bad))
    assert code == 1
    assert "line 8: products[0].price" in capsys.readouterr().err
    assert run(environ, "stock", "status")[1].count("\n") == 1  # header only: nothing was created


def test_stock_import_reports_each_refused_line_and_imports_nothing(
    environ: dict[str, str], tmp_path: Path
) -> None:
    run(environ, "catalog", "load", str(CATALOG))
    first = tmp_path / "first.txt"
    first.write_text("K-1\nK-2\n")
    assert run(environ, "stock", "import", "WIN11-PRO", str(first))[0] == 0
    second = tmp_path / "second.csv"
    second.write_text("key,note\nK-3,ok\nK-1,dup\n,blank\n" + "x" * 300 + ",long\n")
    code, out = run(environ, "stock", "import", "GENSHIN-60", str(second))
    assert code == 1
    assert "line 3: refused: already in stock" in out and "line 4: refused: blank line" in out
    assert "line 5: refused: longer than 256 characters" in out and "imported: 0" in out
    assert available(environ) == {"GENSHIN-60": 0, "WIN11-PRO": 2}


def available(environ: dict[str, str]) -> dict[str, int]:
    """SKU → available, read from `stock status`'s table."""
    return {sku: row[1] for sku, row in stock_table(environ).items()}


def stock_table(environ: dict[str, str]) -> dict[str, tuple[int, ...]]:
    """SKU → (stocked, available, held, sold, bad, refunded) from `stock status`."""
    _, status = run(environ, "stock", "status")
    table = {}
    for line in status.splitlines()[1:-1]:
        match = re.search(r"^(\S+) .* (\d+) = +(\d+) \+ +(\d+) \+ +(\d+) \+ +(\d+) +(\d+)", line)
        assert match, line
        table[match[1]] = tuple(int(n) for n in match.groups()[1:])
    return {sku: row for sku, row in table.items() if sku in ("GENSHIN-60", "WIN11-PRO")}


def test_stock_status_adds_up_and_says_out_of_stock_rather_than_low(
    environ: dict[str, str], tmp_path: Path
) -> None:
    run(environ, "catalog", "load", str(CATALOG))
    keys = tmp_path / "k.txt"
    keys.write_text("K-1\nK-2\n")
    run(environ, "stock", "import", "WIN11-PRO", str(keys))
    assert stock_table(environ) == {
        "GENSHIN-60": (0, 0, 0, 0, 0, 0),
        "WIN11-PRO": (2, 2, 0, 0, 0, 0),
    }
    _, status = run(environ, "stock", "status")
    [genshin] = [line for line in status.splitlines() if line.startswith("GENSHIN-60")]
    [windows] = [line for line in status.splitlines() if line.startswith("WIN11-PRO")]
    assert genshin.endswith("OUT") and windows.endswith("LOW")


def test_stock_status_cuts_a_long_name_between_words(
    environ: dict[str, str], tmp_path: Path
) -> None:
    long_name = tmp_path / "catalog.yaml"
    long_name.write_text(
        CATALOG.read_text(encoding="utf-8").replace(
            "Windows 11 Pro licence key", "Windows 11 Professional licence key for one retail PC"
        ),
        encoding="utf-8",
    )
    run(environ, "catalog", "load", str(long_name))
    _, status = run(environ, "stock", "status")
    [windows] = [line for line in status.splitlines() if line.startswith("WIN11-PRO")]
    assert "Windows 11 Professional licence key for…" in windows


def test_stock_import_of_an_unknown_sku_is_refused(environ: dict[str, str], tmp_path: Path) -> None:
    keys = tmp_path / "k.txt"
    keys.write_text("K-1\n")
    assert run(environ, "stock", "import", "NOPE", str(keys))[0] == 1


def test_a_wallet_credit_is_recorded_once_per_idempotency_key(environ: dict[str, str]) -> None:
    first = run(
        environ, "wallet", "credit", "1001", "25.50", "--reason", "bank transfer", "--key", "TX-9"
    )
    again = run(
        environ, "wallet", "credit", "1001", "25.50", "--reason", "bank transfer", "--key", "TX-9"
    )
    assert first == (0, "user 1001: credited; balance ¥25.50\n")
    assert again[1].startswith("user 1001: already credited") and "¥25.50" in again[1]
    assert run(environ, "wallet", "credit", "1001", "0.001", "--reason", "x", "--key", "y")[0] == 1


def test_a_missing_setting_stops_with_one_line_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["keys", "rotate"], {}, io.StringIO()) == 1
    assert capsys.readouterr().err == "error: Setting CARD_KEY_SECRET is not set\n"


def test_support_stats_print_todays_figures(environ: dict[str, str]) -> None:
    code, out = run(environ, "support", "stats")
    assert code == 0
    assert out.splitlines()[0] == "📊 Support today" and "Tickets: 0" in out
    assert run(environ, "support", "stats", "--since", "not-a-date")[0] == 1


def test_support_stats_since_a_date_are_headed_with_that_date(environ: dict[str, str]) -> None:
    code, out = run(environ, "support", "stats", "--since", "2026-12-01")
    assert code == 0 and out.splitlines()[0] == "📊 Support since 2026-12-01 00:00 UTC"
    _, shifted = run(environ, "support", "stats", "--since", "2026-12-01T08:00+08:00")
    assert shifted.splitlines()[0] == "📊 Support since 2026-12-01 00:00 UTC"


def test_support_stats_list_the_faq_entries_buyers_found_unhelpful(environ: dict[str, str]) -> None:
    import asyncio
    from datetime import UTC, datetime

    from store.adapters.database import create_engine
    from store.adapters.migration import upgrade
    from store.adapters.unit_of_work import UnitOfWorkFactory
    from store.services.question import record_feedback, record_question

    async def ask_and_rate() -> None:
        engine = create_engine(environ["DATABASE_URL"])
        await upgrade(engine)
        uow = UnitOfWorkFactory(engine)
        now = datetime.now(UTC)
        asked = await record_question(
            uow(),
            user_id=1,
            language="en",
            action="answer",
            entry_id="refund_policy",
            score=80,
            now=now,
        )
        await record_feedback(uow(), user_id=1, question_id=asked, helpful=False)
        await engine.dispose()

    asyncio.run(ask_and_rate())
    _, out = run(environ, "support", "stats")
    assert "FAQ feedback (helpful / not):\n  refund_policy: 0 / 1\n" in out


def test_support_stats_since_a_time_with_an_offset_count_from_that_moment(
    environ: dict[str, str],
) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta, timezone

    from store.adapters.database import create_engine
    from store.adapters.migration import upgrade
    from store.adapters.unit_of_work import UnitOfWorkFactory
    from store.services.question import record_question

    now = datetime.now(UTC)

    async def ask() -> None:
        engine = create_engine(environ["DATABASE_URL"])
        await upgrade(engine)
        await record_question(
            UnitOfWorkFactory(engine)(),
            user_id=1,
            language="en",
            action="answer",
            entry_id="refund_policy",
            score=80,
            now=now,
        )
        await engine.dispose()

    asyncio.run(ask())
    # Half an hour before the question, written on a UTC+8 clock: the question counts.
    since = (now - timedelta(minutes=30)).astimezone(timezone(timedelta(hours=8))).isoformat()
    _, out = run(environ, "support", "stats", "--since", since)
    assert "Questions: 1 " in out


def refused_at_start(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str], *argv: str
) -> str:
    """Run a command that must stop before doing anything; the one stderr line it printed."""
    code, out = run(environ, *argv)
    err = capsys.readouterr().err
    assert (code, out) == (1, "")
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err.removeprefix("error: ").rstrip("\n")


@pytest.fixture
def bot_environ(environ: dict[str, str]) -> dict[str, str]:
    """`run` needs a token; the API base is a closed port, so nothing is ever reached."""
    return {**environ, "BOT_TOKEN": "123:abc", "TELEGRAM_API_BASE": "http://127.0.0.1:9"}


def test_a_broken_knowledge_file_stops_the_bot_at_start_up_in_one_line(
    bot_environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    faq = tmp_path / "faq"
    faq.mkdir()
    aliases = ", ".join(["*a"] * 9)
    (faq / "broken.yaml").write_text(f"entries:\n  - id: [&a [x, x], {aliases}]\n")
    line = refused_at_start({**bot_environ, "FAQ_DIR": str(faq)}, capsys, "run")
    assert line.startswith("broken.yaml: line 2: more than 8 aliases")
    assert not (tmp_path / "cli.sqlite3").exists()  # refused before the database was opened


def test_a_missing_faq_directory_stops_the_bot_at_start_up_in_one_line(
    bot_environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no-faq"
    line = refused_at_start({**bot_environ, "FAQ_DIR": str(missing)}, capsys, "run")
    assert line == f"Setting FAQ_DIR names {missing}, which does not exist"


def test_an_unknown_log_level_is_refused_in_one_line(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused_at_start({**environ, "LOG_LEVEL": "verbose"}, capsys, "stock", "status")
    assert line.startswith("Setting LOG_LEVEL must be one of DEBUG, INFO")


def test_a_lowercase_log_level_is_taken(environ: dict[str, str]) -> None:
    assert run({**environ, "LOG_LEVEL": "warning"}, "stock", "status")[0] == 0


def test_an_in_memory_database_is_refused_in_one_line(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused_at_start(
        {**environ, "DATABASE_URL": "sqlite+aiosqlite://"}, capsys, "stock", "status"
    )
    assert line.startswith("Setting DATABASE_URL names an in-memory SQLite database")


def test_a_database_path_that_cannot_be_created_is_refused_in_one_line(
    environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "data").write_text("a file where a folder should be")
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'kamibot.sqlite3'}"
    line = refused_at_start({**environ, "DATABASE_URL": url}, capsys, "db", "upgrade")
    assert line == (
        f"Setting DATABASE_URL names {tmp_path / 'data' / 'kamibot.sqlite3'}, "
        "which cannot be created: "
        f"{tmp_path / 'data'} is a file, not a folder"
    )


def test_a_database_even_root_cannot_create_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"CARD_KEY_SECRET": "x" * 40, "DATABASE_URL": "sqlite+aiosqlite:////proc/kamibot/shop.db"}
    assert main(["db", "upgrade"], environ=env) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and "/proc/kamibot/shop.db" in line


def test_stock_import_of_a_mistyped_sku_names_the_nearest(
    environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(environ, "catalog", "load", str(CATALOG))
    keys = tmp_path / "k.txt"
    keys.write_text("K-1\n")
    assert run(environ, "stock", "import", "WIN-11-PRO", str(keys))[0] == 1
    assert "no product with SKU 'WIN-11-PRO' (nearest: WIN11-PRO" in capsys.readouterr().err
    assert run(environ, "stock", "import", "win11-pro", str(keys)) == (
        0,
        "imported: 1\nrefused: 0\n",
    )


def test_stock_import_of_thousands_of_refused_lines_lists_a_few_and_counts_by_reason(
    environ: dict[str, str], tmp_path: Path
) -> None:
    run(environ, "catalog", "load", str(CATALOG))
    keys = tmp_path / "k.txt"
    keys.write_text("K-1\n" + "\n" * 3000 + "K-2\n")
    code, out = run(environ, "stock", "import", "WIN11-PRO", str(keys))
    assert code == 1 and len(out.splitlines()) < 60
    assert "line 2: refused: blank line" in out and "… and 2950 more refused lines" in out
    assert "refused: 3000\n  blank line: 3000\n" in out


def test_a_wallet_credit_warns_when_the_user_never_used_the_bot(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(environ, "wallet", "credit", "1001", "5", "--reason", "bank", "--key", "K1")
    assert code == 0 and "told in chat" not in out
    assert "warning: user 1001 has never used the bot" in capsys.readouterr().err


def test_a_wallet_credit_for_a_buyer_of_the_bot_is_told_in_chat(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio
    from datetime import UTC, datetime

    from store.adapters.database import create_engine
    from store.adapters.migration import upgrade
    from store.adapters.unit_of_work import UnitOfWorkFactory
    from store.domain.model import Language
    from store.domain.outbox import WalletCredited
    from store.services.outbox import claim_outbox
    from store.services.user import meet_user

    async def with_shop(work: str) -> list[object]:
        engine = create_engine(environ["DATABASE_URL"])
        await upgrade(engine)
        uow = UnitOfWorkFactory(engine)
        now = datetime.now(UTC)
        if work == "meet":
            await meet_user(uow(), user_id=1001, first_name="Li", app_language=Language.EN, now=now)
            found: list[object] = []
        else:
            found = [item.payload for item in await claim_outbox(uow(), now=now)]
        await engine.dispose()
        return found

    asyncio.run(with_shop("meet"))
    code, out = run(environ, "wallet", "credit", "1001", "5", "--reason", "bank", "--key", "K1")
    assert (code, out) == (0, "user 1001: credited; balance ¥5.00; told in chat\n")
    assert "warning" not in capsys.readouterr().err
    assert asyncio.run(with_shop("claim")) == [WalletCredited(500, 500)]
