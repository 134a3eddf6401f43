"""An operator's first run: the shipped example files, the README's settings, the demo's shop."""

from __future__ import annotations

import io
import logging
import re
import socket
import subprocess
import tomllib
from pathlib import Path

import pytest

from bot.cli import main
from bot.log_hygiene import cap_library_loggers
from config.settings import Settings
from store.formats.catalog_file import parse_catalog
from store.formats.key_file import parse_key_file

ROOT = Path(__file__).parents[2]


def run(environ: dict[str, str], *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), environ, out), out.getvalue()


def test_the_readme_settings_table_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in readme.splitlines() if line.startswith("| `"))
    named = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    assert set(Settings.model_fields) - named == set()


def test_env_example_lists_every_setting() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    named = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert set(Settings.model_fields) - named == set()


def test_the_catalog_that_running_for_real_names_exists_and_loads(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "catalog.example.yaml" in readme
    environ = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.sqlite3'}"}
    # No CARD_KEY_SECRET: loading a catalog touches no card key.
    code, out = run(environ, "catalog", "load", str(ROOT / "catalog.example.yaml"))
    assert (code, out) == (0, "catalog loaded: 4 created, 0 updated, 0 unchanged\n")
    assert len(parse_catalog((ROOT / "catalog.example.yaml").read_text()).products) == 2


def test_the_sample_key_file_imports_cleanly_into_a_demo_product() -> None:
    parsed = parse_key_file("demo_keys.txt", (ROOT / "demo_keys.txt").read_bytes())
    assert len(parsed.keys) >= 5 and not parsed.refused
    demo = parse_catalog((ROOT / "bot" / "demo_catalog.yaml").read_text(encoding="utf-8"))
    assert "WIN11-PRO" in {product.sku for product in demo.products}
    assert "demo_keys.txt" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_demo_flag_points_the_cli_at_the_demos_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = run({"LOG_LEVEL": "WARNING"}, "--demo", "stock", "status")
    assert code == 0 and out.startswith("SKU")
    assert (tmp_path / "data" / "demo.sqlite3").is_file()
    assert not (tmp_path / "data" / "kamibot.sqlite3").exists()


def test_running_with_the_placeholder_secret_stops_in_one_line_before_opening_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "shop.sqlite3"
    placeholder = "replace-with-a-long-random-passphrase-of-32-or-more-characters"
    environ = {
        "BOT_TOKEN": "123:abc",
        "CARD_KEY_SECRET": placeholder,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
    }
    assert run(environ, "run")[0] == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Setting CARD_KEY_SECRET is still the placeholder")
    assert err.count("\n") == 1
    assert not database.exists()


def test_a_busy_demo_port_stops_in_one_line_naming_it_and_how_to_choose_another(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        environ = {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}",
            "CARD_KEY_SECRET": "a demo passphrase that is longer than 32 characters",
            "LOG_LEVEL": "WARNING",
        }
        assert run(environ, "demo", "--port", str(port))[0] == 1
    err = capsys.readouterr().err
    assert err == (
        f"error: port {port} on 127.0.0.1 is already in use; choose another: "
        f"make demo PORT={port + 1} (or python -m bot demo --port {port + 1})\n"
    )


def test_make_demo_passes_the_port_through() -> None:
    dry_run = subprocess.run(
        ["make", "-n", "demo", "PORT=8081"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "-m bot demo --port 8081" in dry_run.stdout


def test_the_scheduler_does_not_log_a_line_per_job_at_start_up() -> None:
    cap_library_loggers()
    assert not logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.INFO)
    assert not logging.getLogger("aiogram.event").isEnabledFor(logging.INFO)


def test_the_licence_is_an_spdx_string_with_a_setuptools_that_takes_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    assert "setuptools>=77" in project["build-system"]["requires"]
