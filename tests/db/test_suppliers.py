"""Suppliers from the command line: added, listed, shown with their stock, and named by every
batch; stock imported before suppliers were recorded is the house's."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from store.domain.batch_manifest import manifest, signed_message
from tests.db.test_cli import CATALOG, run


def keys_file(tmp_path: Path, name: str, *keys: str) -> str:
    path = tmp_path / name
    path.write_text("\n".join(keys) + "\n", encoding="utf-8")
    return str(path)


def test_a_new_shop_has_the_house_supplier_for_stock_imported_without_one(
    environ: dict[str, str], tmp_path: Path
) -> None:
    run(environ, "catalog", "load", str(CATALOG))
    assert (
        run(environ, "stock", "import", "WIN11-PRO", keys_file(tmp_path, "a.txt", "H-1", "H-2"))[0]
        == 0
    )
    code, listed = run(environ, "supplier", "list")
    assert code == 0 and listed.startswith("house ")
    code, shown = run(environ, "supplier", "show", "house")
    assert "WIN11-PRO            2 / 0 / 0 / 0" in shown
    assert "stock imported before suppliers were recorded" in shown


def test_a_supplier_is_added_and_its_batch_is_counted_as_its_stock(
    environ: dict[str, str], tmp_path: Path
) -> None:
    run(environ, "catalog", "load", str(CATALOG))
    code, said = run(
        environ,
        "supplier",
        "add",
        "acme",
        "--name",
        "Acme 一级代理",
        "--public-name",
        "Acme",
        "--contact",
        "@acme",
    )
    assert (code, said) == (0, "Added supplier acme (Acme).\n")
    file = keys_file(tmp_path, "acme.txt", "A-1", "A-2", "A-3")
    assert run(environ, "stock", "import", "STEAM-CN-50", file, "--supplier", "acme")[0] == 0
    shown = run(environ, "supplier", "show", "acme")[1]
    assert "acme: Acme 一级代理 (public: Acme), active" in shown
    assert "STEAM-CN-50          3 / 0 / 0 / 0" in shown
    assert "added  (by cli)" in shown
    assert "STEAM-CN-50" not in run(environ, "supplier", "show", "house")[1]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (("acme", "--name", "Again"), "there is already a supplier acme"),
        (("Bad Id", "--name", "X"), "supplier id 'Bad Id': use 1-32 of a-z, 0-9, _ and -"),
        (
            ("short", "--name", "X", "--public-key", "abcd"),
            "an Ed25519 public key is 32 bytes, not 3",
        ),
        (("blank", "--name", "  "), "a supplier's name is 1-64 characters"),
    ],
)
def test_a_bad_supplier_is_refused_in_one_line_and_changes_nothing(
    environ: dict[str, str], capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], words: str
) -> None:
    assert run(environ, "supplier", "add", "acme", "--name", "Acme")[0] == 0
    before = run(environ, "supplier", "list")[1]
    code, _ = run(environ, "supplier", "add", *argv)
    assert code == 1 and words in capsys.readouterr().err
    assert run(environ, "supplier", "list")[1] == before


def test_an_import_naming_an_unknown_supplier_imports_nothing(
    environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(environ, "catalog", "load", str(CATALOG))
    file = keys_file(tmp_path, "x.txt", "X-1")
    code, _ = run(environ, "stock", "import", "WIN11-PRO", file, "--supplier", "nobody")
    assert code == 1 and "no supplier nobody" in capsys.readouterr().err
    assert "WIN11-PRO" not in run(environ, "supplier", "show", "house")[1]


def signing_supplier(environ: dict[str, str]) -> Ed25519PrivateKey:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    said = run(environ, "supplier", "add", "acme", "--name", "Acme", "--public-key", public)
    assert said == (0, "Added supplier acme (Acme); its batches must be signed.\n")
    return private


def test_a_signed_batch_is_imported_with_its_cost_proof_and_manifest(
    environ: dict[str, str], tmp_path: Path
) -> None:
    run(environ, "catalog", "load", str(CATALOG))
    private = signing_supplier(environ)
    file = keys_file(tmp_path, "signed.txt", "S-2", "S-1")
    digest = manifest(["S-1", "S-2"])
    assert run(environ, "supplier", "manifest", file)[1].startswith(
        f"manifest {digest.hex()} (2 keys)"
    )
    signature = tmp_path / "signed.sig"
    signature.write_bytes(base64.b64encode(private.sign(signed_message(digest))))
    proof = tmp_path / "授权书.pdf"
    proof.write_bytes(b"%PDF-1.4 authorisation")
    code, _ = run(
        environ,
        "stock",
        "import",
        "WIN11-PRO",
        file,
        "--supplier",
        "acme",
        "--cost",
        "4200",
        "--proof",
        str(proof),
        "--manifest-signature",
        str(signature),
    )
    assert code == 0
    assert "WIN11-PRO            2 / 0 / 0 / 0" in run(environ, "supplier", "show", "acme")[1]
    database = environ["DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(database) as connection:
        batch = connection.execute(
            "SELECT supplier_id, key_count, cost_minor, proof_sha256, manifest_sha256,"
            " manifest_signed FROM batches"
        ).fetchall()
    proof_hash = hashlib.sha256(b"%PDF-1.4 authorisation").hexdigest()
    assert batch == [("acme", 2, 4200, proof_hash, digest.hex(), 1)]


@pytest.mark.parametrize("signed", ["none", "other key", "other file"])
def test_a_batch_without_the_suppliers_good_signature_is_refused_whole(
    environ: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], signed: str
) -> None:
    run(environ, "catalog", "load", str(CATALOG))
    private = signing_supplier(environ)
    file = keys_file(tmp_path, "batch.txt", "B-1", "B-2")
    argv = ["stock", "import", "WIN11-PRO", file, "--supplier", "acme"]
    if signed != "none":
        signer = Ed25519PrivateKey.generate() if signed == "other key" else private
        keys = ["B-1", "B-2"] if signed == "other key" else ["B-1", "B-3"]
        signature = tmp_path / "batch.sig"
        signature.write_bytes(signer.sign(signed_message(manifest(keys))))
        argv += ["--manifest-signature", str(signature)]
    code, _ = run(environ, *argv)
    assert code == 1
    error = capsys.readouterr().err
    assert "signs its batches" in error if signed == "none" else "refused whole" in error
    assert "none imported yet" in run(environ, "supplier", "show", "acme")[1]
