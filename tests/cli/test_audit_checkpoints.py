"""`yorisoi audit keygen|checkpoint|verify` with a key: a rewound case is named, a new checkpoint
is refused until the step back is accepted with a reason, and someone is told each time."""

from __future__ import annotations

import gzip
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from models.db import create_db_engine
from notifications import read_sink
from tests.cli.conftest import Cli, open_case, to_monitoring
from yorisoi.settings import get_settings


@pytest.fixture(name="keyed")
def keyed_fixture(town: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The town with a key file made by `audit keygen` and an auditor told of checkpoints."""
    key_file = tmp_path / "secrets" / "audit.key"
    key_file.parent.mkdir()
    made = town("audit", "keygen", "--out", str(key_file))
    assert f"鍵を書き出しました: {key_file}" in made.stdout
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_text().strip()) == 64
    assert "上書きしません" in town("audit", "keygen", "--out", str(key_file), ok=False).output
    monkeypatch.setenv("YORISOI_AUDIT__KEY_FILE", str(key_file))
    monkeypatch.setenv("YORISOI_AUDIT__NOTIFY", "role:auditor")
    get_settings.cache_clear()
    return town


def _sql(statements: list[str], number: str) -> None:
    engine = create_db_engine(get_settings().database_url())
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement), {"n": number})
    engine.dispose()


CASE = '(SELECT id FROM "case" WHERE number = :n)'
UNDO_APPROVAL = [
    # Delete the approval's event and outbox row, set the plan and the case back: the chain and
    # the records agree again, only a checkpoint remembers.
    f"DELETE FROM outbox_message WHERE case_id = {CASE} AND idempotency_key LIKE '%:event:6'",
    f"DELETE FROM audit_event WHERE case_id = {CASE} AND seq = 6",
    f"UPDATE plan SET status = 'draft', approved_by = NULL, approved_on = NULL, meeting_id = NULL "
    f"WHERE case_id = {CASE}",
    "UPDATE \"case\" SET version = 5, stage = 'planning', next_monitoring_on = NULL, "
    f"audit_head = (SELECT hash FROM audit_event WHERE case_id = {CASE} AND seq = 5) WHERE number = :n",
]


def test_checkpoint_then_a_rewound_case_is_found_and_the_next_checkpoint_refused(keyed: Cli) -> None:
    number = open_case(keyed)
    to_monitoring(keyed, number)
    other = open_case(keyed)
    written = keyed("audit", "checkpoint")
    checkpoint_dir = get_settings().checkpoint_dir()
    assert written.stdout.startswith(
        f"チェックポイント第1号を書き出しました: {checkpoint_dir}/checkpoint-000001-"
    )
    assert "（2 ケース）" in written.stdout
    verified = keyed("audit", "verify", "--require-checkpoint").stdout.splitlines()
    assert verified[0] == (
        "ケース 2 件・監査記録 7 件を検証しました: "
        "OK（改ざん・欠落・不正な遷移・記録との不一致・巻き戻しはありません）"
    )
    assert verified[1].startswith("チェックポイント第1号（") and verified[1].endswith(
        "・2 ケースと照合しました。"
    )

    _sql(UNDO_APPROVAL, number)
    result = keyed("audit", "verify", ok=False)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        f"{number} 第6番の記録: 監査記録が第5番までしかありません。チェックポイント第1号（"
    )
    assert other not in result.stdout
    assert "1 件のケースに問題があります。" in result.stdout and "対応:" in result.stdout
    problems = keyed.json("audit", "verify", ok=False)["problems"]
    assert [(p["case"], p["seq"], p["code"]) for p in problems] == [(number, 6, "checkpoint")]

    refused = keyed("audit", "checkpoint", ok=False)
    assert refused.exit_code == 1
    assert (
        "1 件のケースがチェックポイント第1号" in refused.stderr
        and f"  {number}: 監査記録が第5番まで" in refused.stderr
    )
    assert len(list(checkpoint_dir.iterdir())) == 1

    accepted = keyed("audit", "checkpoint", "--accept-rewind", "6月25日のバックアップから復元")
    assert "チェックポイント第2号を書き出しました" in accepted.stdout
    assert "1 件のケースの巻き戻しを承認しました（理由: 6月25日のバックアップから復元）" in accepted.stderr
    assert keyed.json("audit", "verify")["checkpoint"]["sequence"] == 2

    told = read_sink(get_settings().data_dir / "notifications.jsonl")
    assert [(m["recipient"], m["title"]) for m in told] == [
        ("role:auditor", "監査チェックポイント第1号"),
        ("role:auditor", "監査チェックポイントを作成できません（要確認）"),
        ("role:auditor", "監査チェックポイント第2号"),
    ]
    assert f"ケース: {number}" in told[1]["body"] and f"巻き戻しを承認したケース: {number}" in told[2]["body"]
    assert "山田" not in "".join(m["body"] for m in told)  # case numbers and hashes, never a person


def test_checkpoint_without_a_key_is_an_error_that_says_how_to_make_one(town: Cli) -> None:
    result = town("audit", "checkpoint", ok=False)
    assert result.exit_code == 1 and "`yorisoi audit keygen`" in result.stderr
    assert town.json("audit", "checkpoint", ok=False)["code"] == "audit_key"


def test_verify_fails_when_the_newest_checkpoint_was_tampered_with(keyed: Cli) -> None:
    open_case(keyed)
    keyed("audit", "checkpoint")
    [written] = get_settings().checkpoint_dir().iterdir()
    data = gzip.decompress(written.read_bytes()).replace(b',1,"', b',2,"')  # "the case had 2 events"
    written.write_bytes(gzip.compress(data))
    result = keyed("audit", "verify", ok=False)
    assert result.exit_code == 1
    assert "監査記録と各記録に問題はありませんが、チェックポイントを信頼できません" in result.stdout
    assert (
        "注意: チェックポイント checkpoint-000001-" in result.stdout
        and "署名が内容と一致しません" in result.stdout
    )
    assert keyed.json("audit", "verify", ok=False)["checkpoint"]["status"] == "unusable"
