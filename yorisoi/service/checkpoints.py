"""Signed checkpoints of the audit chain heads, kept outside the database.

The hash chains live in the database: whoever can write it can delete a case's last events
and rewind the case row (version, head, stage), and the chain left behind is consistent. A
checkpoint pins, for every case, how many events it had and the hash of the last one, in a
file signed (HMAC-SHA256) with a key the database never sees. `audit verify` then finds any
case that no longer has the event the newest checkpoint saw — deleted, rewritten, or the case
gone altogether — and names it.

- Written by `yorisoi audit checkpoint`, by the `audit-checkpoint` flow (`yorisoi serve`, or a
  Prefect deployment) every evening, and optionally told to an Apprise recipient each time
  (`audit.notify`) so a copy of its signature lives elsewhere too.
- Each checkpoint extends the one before: writing one first compares the database with the
  newest checkpoint and refuses (`CheckpointRefused`) if any case went back, so the newest
  checkpoint is the only one verify needs. After a deliberate step back (a restore from a
  backup), `--accept-rewind REASON` writes a checkpoint that records the cases that went back
  and why.
- Without a key nothing is signed or checked, and verify says so instead of claiming OK.

A file, `checkpoint-000042-20261201T100000Z.jsonl.gz`, is gzip'd JSON lines: a header (format,
sequence, time, key id, the previous file's SHA-256, an accepted rewind), one
`[case_id, number, version, head]` per case in id order, and a trailer with the count and the
HMAC of every line before it. It holds case numbers and hashes, never a name or a story.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select, tuple_
from sqlmodel import Session

from models import AuditEvent, Case
from models.timestamps import utcnow
from yorisoi.errors import AuditKeyError, CheckpointRefused
from yorisoi.jpdates import tokyo_datetime
from yorisoi.settings import Settings

FORMAT = "yorisoi-audit-checkpoint"
FORMAT_VERSION = 1
MIN_KEY_LENGTH = 32
_NAME = re.compile(r"^checkpoint-(\d{6,})-(\d{8}T\d{6}Z)\.jsonl\.gz$")
_BATCH = 1_000
_KEY_ID_MESSAGE = b"yorisoi audit checkpoint key id"
_case: Table = Case.__table__  # type: ignore[attr-defined]
_event: Table = AuditEvent.__table__  # type: ignore[attr-defined]


# --- the key --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditKey:
    secret: bytes = field(repr=False)
    source: str

    @property
    def key_id(self) -> str:
        """Names the key in each checkpoint without giving it away."""
        return hmac.new(self.secret, _KEY_ID_MESSAGE, hashlib.sha256).hexdigest()[:16]

    def mac(self) -> Any:
        return hmac.new(self.secret, digestmod=hashlib.sha256)


def new_key() -> str:
    """A fresh key: 256 random bits as 64 hex digits."""
    return secrets.token_hex(32)


def load_key(settings: Settings) -> AuditKey | None:
    """The configured key (`audit.key` or `audit.key_file`); None when neither is set."""
    audit = settings.audit
    if audit.key is not None and audit.key_file is not None:
        raise AuditKeyError(
            "YORISOI_AUDIT__KEY と YORISOI_AUDIT__KEY_FILE の両方が設定されています。"
            "どちらか一方にしてください。",
            "Both YORISOI_AUDIT__KEY and YORISOI_AUDIT__KEY_FILE are set; set one of them.",
        )
    if audit.key is not None:
        return _key(audit.key.get_secret_value(), "YORISOI_AUDIT__KEY")
    if audit.key_file is None:
        return None
    path = audit.key_file
    try:
        mode = path.stat().st_mode
        text = path.read_text("utf-8")
    except OSError as exc:
        raise AuditKeyError(
            f"監査の鍵ファイル {path} を読めません（{exc.strerror}）。",
            f"Cannot read the audit key file {path}: {exc.strerror}.",
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AuditKeyError(
            f"監査の鍵ファイル {path} は所有者以外も読み書きできます。`chmod 600 {path}` にしてください。",
            f"The audit key file {path} is accessible to others; run `chmod 600 {path}`.",
        )
    return _key(text, str(path))


def _key(text: str, source: str) -> AuditKey:
    secret = text.strip()
    if len(secret) < MIN_KEY_LENGTH:
        raise AuditKeyError(
            f"監査の鍵（{source}）が短すぎます"
            f"（{MIN_KEY_LENGTH}文字以上。`yorisoi audit keygen` で作れます）。",
            f"The audit key ({source}) is too short: at least {MIN_KEY_LENGTH} characters "
            "(`yorisoi audit keygen` makes one).",
        )
    return AuditKey(secret.encode("utf-8"), source)


# --- reading a checkpoint -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    case_id: int
    number: str
    version: int
    head: str


@dataclass(frozen=True, slots=True)
class Header:
    path: Path
    sequence: int
    created_at: dt.datetime
    key_id: str
    cases: int
    accepted_rewind: dict[str, Any] | None
    label: str
    """`第12号（2026-12-01 19:00）`, as the messages name it."""


class _Unusable(Exception):
    def __init__(self, ja: str, en: str) -> None:
        super().__init__(en)
        self.ja = ja
        self.en = en


def checkpoint_files(directory: Path) -> list[tuple[int, Path]]:
    """The checkpoint files in `directory`, oldest first, by sequence."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return sorted(found)


def _lines(path: Path) -> Iterator[bytes]:
    with gzip.open(path, "rb") as handle:
        yield from handle


def read_header(path: Path, key: AuditKey) -> Header:
    """Check the whole file's signature with `key` and return its header (`_Unusable` if not)."""
    try:
        mac = key.mac()
        first: dict[str, Any] | None = None
        last: bytes = b""
        count = 0
        for line in _lines(path):
            if last:
                mac.update(last)
                count += 1
            last = line
            if first is None:
                first = json.loads(line)
        trailer = json.loads(last) if last else None
    except (OSError, EOFError, ValueError, gzip.BadGzipFile) as exc:
        raise _Unusable(
            f"チェックポイント {path.name} を読めません（{type(exc).__name__}）。",
            f"Cannot read the checkpoint {path.name}: {exc}",
        ) from None
    if not isinstance(first, dict) or first.get("format") != FORMAT or not isinstance(trailer, dict):
        raise _Unusable(
            f"{path.name} はチェックポイントの形式ではありません。",
            f"{path.name} is not a yorisoi audit checkpoint.",
        )
    if first.get("key_id") != key.key_id:
        raise _Unusable(
            f"チェックポイント {path.name} は別の鍵で署名されています（鍵 {first.get('key_id')}、"
            f"設定の鍵 {key.key_id}）。",
            f"The checkpoint {path.name} is signed with another key ({first.get('key_id')}; the configured "
            f"key is {key.key_id}).",
        )
    if (
        not hmac.compare_digest(str(trailer.get("hmac", "")), mac.hexdigest())
        or trailer.get("cases") != count - 1
    ):
        raise _Unusable(
            f"チェックポイント {path.name} の署名が内容と一致しません（ファイルの改ざん・破損の可能性）。",
            f"The checkpoint {path.name} does not match its signature (edited or damaged).",
        )
    sequence, created_at = int(first["sequence"]), dt.datetime.fromisoformat(first["created_at"])
    return Header(
        path=path,
        sequence=sequence,
        created_at=created_at,
        key_id=str(first["key_id"]),
        cases=int(trailer["cases"]),
        accepted_rewind=first.get("accepted_rewind"),
        label=f"第{sequence}号（{tokyo_datetime(created_at).strftime('%Y-%m-%d %H:%M')}）",
    )


def entries(path: Path) -> Iterator[Entry]:
    """The per-case lines of a checkpoint whose signature `read_header` has checked."""
    lines = _lines(path)
    next(lines)  # the header
    pending: bytes | None = None
    for line in lines:
        if pending is not None:
            case_id, number, version, head = json.loads(pending)
            yield Entry(int(case_id), str(number), int(version), str(head))
        pending = line
    # the last line is the trailer


# --- comparing the database with a checkpoint ----------------------------------------------


def _behind(
    entry: Entry, header: Header, number: str | None, head_at: str | None, now: int
) -> tuple[int | None, str, str] | None:
    """What is wrong with one case against its checkpoint entry, if anything.

    `number`: the case's number now (None: the case is gone); `now`: how many events it has;
    `head_at`: the hash of its event number `entry.version` (None: there is none).
    """
    if number is None:
        return (
            None,
            f"ケース {entry.number} がありません"
            f"（チェックポイント{header.label}にはありました。ケースごと削除された可能性）。",
            f"case {entry.number} is gone; checkpoint {header.sequence} had it (deleted with its events?)",
        )
    if number != entry.number:
        return (
            None,
            f"ケース番号がチェックポイント{header.label}と違います（{entry.number} → {number}）。",
            f"the case number changed since checkpoint {header.sequence} ({entry.number} -> {number})",
        )
    if now < entry.version:
        return (
            entry.version,
            f"監査記録が第{now}番までしかありません。チェックポイント{header.label}では第{entry.version}番までありました"
            "（末尾の記録の削除・ケースの巻き戻しの可能性）。",
            f"the case has {now} events; checkpoint {header.sequence} saw {entry.version} "
            "(trailing events deleted and the case rewound?)",
        )
    if head_at != entry.head:
        return (
            entry.version,
            f"第{entry.version}番の記録がチェックポイント{header.label}の時点と違います（記録の削除・差し替えの可能性）。",
            f"event {entry.version} differs from the one checkpoint {header.sequence} saw "
            "(deleted or replaced?)",
        )
    return None


def went_back(session: Session, header: Header) -> list[tuple[str, str, str]]:
    """Every case of the checkpoint that the database no longer has as the checkpoint saw it."""
    found: list[tuple[str, str, str]] = []
    batch: list[Entry] = []

    def flush() -> None:
        ids = [e.case_id for e in batch]
        now = {
            row.id: row
            for row in session.execute(
                select(_case.c.id, _case.c.number, _case.c.version, _case.c.audit_head).where(
                    _case.c.id.in_(ids)
                )
            )
        }
        further = [
            (e.case_id, e.version) for e in batch if e.case_id in now and now[e.case_id].version > e.version
        ]
        hashes: dict[tuple[int, int], str] = {}
        if further:
            rows = session.execute(
                select(_event.c.case_id, _event.c.seq, _event.c.hash).where(
                    tuple_(_event.c.case_id, _event.c.seq).in_(further)
                )
            )
            hashes = {(r.case_id, r.seq): r.hash for r in rows}
        for e in batch:
            case = now.get(e.case_id)
            if case is None:
                problem = _behind(e, header, None, None, 0)
            else:
                head = case.audit_head if case.version == e.version else hashes.get((e.case_id, e.version))
                problem = _behind(e, header, case.number, head, case.version)
            if problem is not None:
                found.append((e.number, problem[1], problem[2]))
        batch.clear()

    for entry in entries(header.path):
        batch.append(entry)
        if len(batch) >= _BATCH:
            flush()
    if batch:
        flush()
    return found


# --- verify's side ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckpointOutcome:
    """What `audit verify` could do with the checkpoints."""

    status: str
    """`checked`, `no_key` (none configured), `none` (no checkpoint written yet), `unusable`
    (the newest one cannot be read or trusted: a problem)."""
    ja: str
    en: str
    header: Header | None = None
    stale: bool = False

    @property
    def failed(self) -> bool:
        return self.status == "unusable"

    @property
    def checked(self) -> bool:
        return self.status == "checked"


CheckpointProblem = tuple[str, int | None, str, str]
"""(case number, the event at issue or None, Japanese, English)."""


class CheckpointCheck:
    """The newest checkpoint, read alongside verify's walk through the cases in id order."""

    def __init__(self, outcome: CheckpointOutcome) -> None:
        self.outcome = outcome
        self._entries: Iterator[Entry] = iter(()) if outcome.header is None else entries(outcome.header.path)
        self._next: Entry | None = next(self._entries, None)
        self._only: set[int] | None = None

    def limit_to(self, case_ids: Sequence[int] | None) -> None:
        """Verify looks at these cases only: the checkpoint's other cases are not asked about."""
        self._only = set(case_ids) if case_ids is not None else None

    def _gone(self, limit: int | None) -> list[CheckpointProblem]:
        """The checkpoint's cases with ids below `limit` (all left, for None) that verify did
        not meet: they are no longer in the database."""
        header = self.outcome.header
        gone: list[CheckpointProblem] = []
        while self._next is not None and (limit is None or self._next.case_id < limit):
            entry, self._next = self._next, next(self._entries, None)
            if header is not None and (self._only is None or entry.case_id in self._only):
                problem = _behind(entry, header, None, None, 0)
                assert problem is not None
                gone.append((entry.number, *problem))
        return gone

    def compare(self, case_id: int, number: str, hashes: dict[int, str]) -> list[CheckpointProblem]:
        """The case (its events' hashes by seq) against its checkpoint entry, if it has one,
        and the checkpoint's cases before it that are gone."""
        header = self.outcome.header
        found = self._gone(case_id)
        entry = self._next
        if header is None or entry is None or entry.case_id != case_id:
            return found  # a case newer than the checkpoint
        self._next = next(self._entries, None)
        problem = _behind(entry, header, number, hashes.get(entry.version), max(hashes, default=0))
        return found + ([(number, *problem)] if problem is not None else [])

    def rest(self) -> list[CheckpointProblem]:
        """The checkpoint's cases after the last case verify met: they are gone."""
        return self._gone(None)


def for_verify(settings: Settings, *, now: dt.datetime | None = None) -> CheckpointCheck:
    """What verify compares with: the newest checkpoint, if the key is there and it checks out."""
    key = load_key(settings)
    directory = settings.checkpoint_dir()
    if key is None:
        return CheckpointCheck(
            CheckpointOutcome(
                "no_key",
                "チェックポイントの鍵（YORISOI_AUDIT__KEY または YORISOI_AUDIT__KEY_FILE）が"
                "設定されていないため、末尾の記録の削除・ケースの巻き戻しは確認していません。",
                "No checkpoint key is configured (YORISOI_AUDIT__KEY or YORISOI_AUDIT__KEY_FILE): deleted "
                "trailing events and rewound cases were not checked.",
            )
        )
    files = checkpoint_files(directory)
    if not files:
        return CheckpointCheck(
            CheckpointOutcome(
                "none",
                f"チェックポイントがまだありません（{directory}）。"
                "`yorisoi audit checkpoint` で作成してください。"
                "末尾の記録の削除・ケースの巻き戻しは確認していません。",
                f"There is no checkpoint in {directory} yet (run `yorisoi audit checkpoint`): deleted "
                "trailing events and rewound cases were not checked.",
            )
        )
    try:
        header = read_header(files[-1][1], key)
    except _Unusable as exc:
        return CheckpointCheck(CheckpointOutcome("unusable", exc.ja, exc.en))
    age = (now or utcnow()) - header.created_at
    stale = age > dt.timedelta(hours=settings.audit.checkpoint_max_age_hours)
    ja = f"チェックポイント{header.label}・{header.cases:,} ケースと照合しました。"
    en = f"Compared with checkpoint {header.sequence} of {header.created_at.isoformat()}"
    en += f" ({header.cases} cases)."
    if stale:
        hours = int(age.total_seconds() // 3600)
        ja += (
            f"ただしこのチェックポイントは {hours} 時間前のものです"
            f"（上限 {settings.audit.checkpoint_max_age_hours} 時間）。"
            "定期の作成が止まっているか、新しいチェックポイントが消された可能性があります。"
        )
        en += f" It is {hours} hours old: the scheduled checkpoints stopped, or newer ones were removed."
    return CheckpointCheck(CheckpointOutcome("checked", ja, en, header, stale))


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    path: Path
    sequence: int
    created_at: dt.datetime
    cases: int
    hmac: str
    sha256: str
    key_id: str
    went_back: tuple[tuple[str, str, str], ...] = ()
    """Cases that went back behind the previous checkpoint, accepted with `accept_rewind`."""

    def summary(self) -> dict[str, Any]:
        """What the Apprise message and the Prefect event carry: nothing about any person."""
        return {
            "sequence": self.sequence,
            "file": self.path.name,
            "created_at": self.created_at.isoformat(),
            "cases": self.cases,
            "hmac": self.hmac,
            "sha256": self.sha256,
            "key_id": self.key_id,
            "accepted_rewind": [number for number, _ja, _en in self.went_back],
        }


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_checkpoint(
    session: Session,
    key: AuditKey,
    directory: Path,
    *,
    now: dt.datetime | None = None,
    accept_rewind: str | None = None,
    by: str = "",
) -> Written:
    """Write the next checkpoint of every case's head; refuse if a case went back behind the
    newest one (unless `accept_rewind` says why that is so) or if the newest cannot be trusted."""
    created_at = now or utcnow()
    files = checkpoint_files(directory)
    previous: dict[str, Any] | None = None
    back: list[tuple[str, str, str]] = []
    sequence = 1
    if files:
        sequence = files[-1][0] + 1
        newest = files[-1][1]
        try:
            header = read_header(newest, key)
        except _Unusable as exc:
            if not accept_rewind:
                raise CheckpointRefused(
                    f"{exc.ja} 新しいチェックポイントは作成しません"
                    "（調べたうえで --accept-rewind で理由を記録して作成できます）。",
                    f"{exc.en} No new checkpoint written (after looking into it, --accept-rewind "
                    "REASON writes one and records why).",
                ) from None
        else:
            back = went_back(session, header)
            if back and not accept_rewind:
                raise CheckpointRefused(
                    f"{len(back)} 件のケースがチェックポイント{header.label}より前の状態に戻っています。"
                    "新しいチェックポイントは作成しません（`yorisoi audit verify` で確認してください）。",
                    f"{len(back)} case(s) went back behind checkpoint {header.sequence}; no new checkpoint "
                    "written (see `yorisoi audit verify`).",
                    back,
                )
        previous = {"sequence": files[-1][0], "file": newest.name, "sha256": _file_sha256(newest)}
    directory.mkdir(parents=True, exist_ok=True)
    name = f"checkpoint-{sequence:06d}-{created_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}.jsonl.gz"
    final = directory / name
    temporary = directory / f".{name}.{os.getpid()}.tmp"
    header_line = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sequence": sequence,
        "created_at": created_at.isoformat(),
        "key_id": key.key_id,
        "previous": previous,
        "accepted_rewind": (
            {"reason": accept_rewind, "by": by, "cases": [number for number, _ja, _en in back]}
            if accept_rewind
            else None
        ),
    }
    mac = key.mac()
    cases = 0
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            _line(out, mac, header_line)
            for case_id, number, version, head in _heads(session):
                _line(out, mac, [case_id, number, version, head])
                cases += 1
            signature = mac.hexdigest()
            out.write(_encode({"cases": cases, "hmac": signature}))
        os.link(temporary, final)  # fails if another writer took this sequence first
    except FileExistsError:
        raise CheckpointRefused(
            f"チェックポイント第{sequence}号は別の処理が先に作成しました。",
            f"Checkpoint {sequence} was written by someone else first.",
        ) from None
    finally:
        temporary.unlink(missing_ok=True)
    return Written(
        final, sequence, created_at, cases, signature, _file_sha256(final), key.key_id, tuple(back)
    )


def _encode(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _line(out: gzip.GzipFile, mac: Any, value: Any) -> None:
    data = _encode(value)
    mac.update(data)
    out.write(data)


def _heads(session: Session) -> Iterator[tuple[int, str, int, str]]:
    """Every case's (id, number, version, head), in id order, a batch at a time."""
    after = 0
    query = select(_case.c.id, _case.c.number, _case.c.version, _case.c.audit_head).order_by(_case.c.id)
    while True:
        rows = session.execute(query.where(_case.c.id > after).limit(_BATCH)).all()
        if not rows:
            return
        for row in rows:
            yield int(row[0]), str(row[1]), int(row[2]), str(row[3])
        after = rows[-1][0]


# --- telling someone ------------------------------------------------------------------------


def announce_written(settings: Settings, written: Written) -> str | None:
    """Tell `audit.notify` of a new checkpoint, so its signature is kept outside this machine
    too; returns why the delivery failed, or None."""
    summary = written.summary()
    body = "\n".join(
        [
            f"監査チェックポイント第{written.sequence}号を作成しました（{written.cases:,} ケース）。",
            f"ファイル: {summary['file']}",
            f"署名 (HMAC-SHA256): {written.hmac}",
            f"ファイルの SHA-256: {written.sha256}",
            f"鍵: {written.key_id}",
        ]
        + (
            [f"巻き戻しを承認したケース: {', '.join(summary['accepted_rewind'])}"]
            if written.went_back
            else []
        )
    )
    return _announce(
        settings, f"監査チェックポイント第{written.sequence}号", body, f"audit:checkpoint:{written.hmac}"
    )


def announce_refused(settings: Settings, refused: CheckpointRefused) -> str | None:
    """Tell `audit.notify` that no checkpoint was written, and which cases went back."""
    numbers = [number for number, _ja, _en in refused.problems]
    shown = ", ".join(numbers[:50]) + (f" ほか {len(numbers) - 50} 件" if len(numbers) > 50 else "")
    body = "\n".join(
        [
            refused.ja,
            *([f"ケース: {shown}"] if numbers else []),
            "`yorisoi audit verify` で確認してください。",
        ]
    )
    key = "audit:refused:" + hashlib.sha256(body.encode("utf-8")).hexdigest()[:32]
    return _announce(settings, "監査チェックポイントを作成できません（要確認）", body, key)


def _announce(settings: Settings, title: str, body: str, idempotency_key: str) -> str | None:
    recipient = settings.audit.notify
    if recipient is None:
        return None
    from yorisoi.dispatch import notifier_for

    result = notifier_for(settings).send(recipient, title, body, idempotency_key)
    return None if result.ok else result.error
