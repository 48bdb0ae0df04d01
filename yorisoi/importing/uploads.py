"""Workbooks uploaded on the import page, kept between the dry run and the confirmation.

They hold personal data: each is stored under `<data_dir>/imports/<its SHA-256>/`, with its own
name, readable by the server's user only, and removed once imported; the failed-rows workbook
of its last run (`<SHA-256>.errors.xlsx`) sits beside that folder until the next run of the
same file.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from yorisoi.errors import InvalidInput, NotFound

MAX_BYTES = 20 * 1024 * 1024
SUFFIXES = (".xlsx", ".csv")
_HASH = re.compile(r"^[0-9a-f]{64}$")


def _folder(data_dir: Path) -> Path:
    folder = data_dir / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def save(data_dir: Path, name: str, data: bytes) -> tuple[str, Path]:
    """Keep an uploaded file under its own name (a CSV's name may say its sheet); its hash and
    where it is."""
    original = Path(name.replace("\\", "/")).name
    suffix = Path(original).suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(
            f"取り込めるのは XLSX と CSV のファイルです（{name}）",
            f"Only XLSX and CSV files can be imported ({name}).",
        )
    if not data:
        raise InvalidInput("ファイルが空です。", "The file is empty.")
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            f"ファイルが大きすぎます（{MAX_BYTES // 1024 // 1024} MB まで。"
            "CLI の yorisoi import なら制限はありません）",
            f"The file is too large (at most {MAX_BYTES // 1024 // 1024} MB here; the CLI has no limit).",
        )
    digest = hashlib.sha256(data).hexdigest()
    folder = _folder(data_dir) / digest
    folder.mkdir(mode=0o700, exist_ok=True)
    stem = Path(original).stem[:100] or "upload"
    path = folder / f"{stem}{suffix}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    return digest, path


def find(data_dir: Path, digest: str) -> Path:
    """The uploaded file with this hash."""
    if _HASH.match(digest):
        folder = _folder(data_dir) / digest
        found = sorted(p for p in folder.glob("*") if p.suffix.lower() in SUFFIXES) if folder.is_dir() else []
        if found:
            return found[0]
    raise NotFound(
        "そのファイルは見つかりません（取込済みか、もう一度アップロードしてください）。",
        "No such uploaded file (imported already, or upload it again).",
    )


def failed_path(data_dir: Path, digest: str) -> Path:
    if not _HASH.match(digest):
        raise NotFound("そのファイルは見つかりません。", "No such file.")
    return _folder(data_dir) / f"{digest}.errors.xlsx"
