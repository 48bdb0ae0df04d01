"""Where an imported record came from, and the key that makes its import happen once.

`cases.fire` and `cases.open_case` take a `Source`: its file hash, sheet and row go into the
audit event's payload (`import`), and its key into `imported_row` in the same transaction,
so a re-run of an import — after a crash, a Ctrl-C, or on a file that grew — finds every row
that was committed and none that was not.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Table, insert
from sqlmodel import Session

from models import ImportedRow
from models.db import connection

_imported: Table = ImportedRow.__table__  # type: ignore[attr-defined]
_INSERT = insert(_imported)


@dataclass(frozen=True, slots=True)
class Source:
    """One spreadsheet row as the audit trail records it."""

    file_hash: str
    """SHA-256 of the file's bytes."""
    sheet: str
    """The sheet's name as the file has it."""
    row: int
    """The row's number in the sheet (1 = the first row)."""
    key: str
    """What identifies the row in any file (`yorisoi.importing.rows`)."""
    digest: str
    """SHA-256 of the row's content as read."""

    def payload(self) -> dict[str, object]:
        return {"file": self.file_hash, "sheet": self.sheet, "row": self.row}


def remember(session: Session, source: Source, case_id: int, seq: int) -> None:
    """Record that the row became event `seq` of the case, in the open transaction."""
    connection(session).execute(
        _INSERT, {"key": source.key, "case_id": case_id, "seq": seq, "digest": source.digest}
    )
