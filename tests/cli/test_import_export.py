"""`yorisoi import template`, `yorisoi import FILE [--dry-run]` and `yorisoi export` as staff run them."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from tests.cli.conftest import DESK, ELDERLY, Cli
from tests.importing.test_messy_workbook import _write

SHEETS = {
    "ケース": [["台帳番号", "氏名", "受付窓口"], ["A-1", "山田 太郎", DESK], ["A-2", "佐藤 花子", DESK]],
    "相談": [
        ["台帳番号", "相談日", "相談者区分", "相談方法", "相談内容"],
        ["A-1", "R6.4.1", "本人", "電話", "収入"],
        ["A-2", "R6.4.2", "家族", "来所", "住まい"],
        ["A-2", "R6.15.2", "家族", "来所", "住まい"],
    ],
    "会議": [
        ["台帳番号", "開催日", "会議の種類", "出席機関", "守秘義務の確認"],
        ["A-1", "R6.5.1", "支援会議", ELDERLY, "はい"],
    ],
}


def test_import_template_writes_the_workbook_to_fill_in(town: Cli, tmp_path: Path) -> None:
    target = tmp_path / "ひな形.xlsx"
    result = town("import", "template", "--output", str(target))
    assert f"記入用のひな形を書き出しました: {target}" in result.stdout
    book = load_workbook(target)
    assert book.sheetnames[:5] == ["説明", "関係機関", "事業所", "職員", "ケース"]
    contacts = book["相談"]
    assert [c.value for c in contacts[1]][:4] == ["台帳番号", "記録番号", "相談日", "受付窓口"]
    lists = {str(v.sqref): v.formula1 for v in contacts.data_validations.dataValidation}
    assert any("選択肢" in str(f) for f in lists.values())  # 相談者区分, 相談方法, 相談内容 from lists
    assert book["選択肢"].sheet_state == "hidden"


def test_dry_run_lists_problems_writes_the_failed_rows_and_nothing_else(town: Cli, tmp_path: Path) -> None:
    path = _write(tmp_path / "records.xlsx", SHEETS)
    dry = town("import", str(path), "--dry-run", actor="sato", ok=False)
    assert "を確認しました — 何も書き込んでいません" in dry.stdout
    assert "誤り: シート「相談」 4行目 列「相談日」: 存在しない日付です" in dry.stdout
    assert f"誤りのある 1 行を {tmp_path / 'records.errors.xlsx'} に書き出しました" in dry.stdout
    assert town.json("case", "list") == []
    failed = load_workbook(tmp_path / "records.errors.xlsx")["相談"]
    assert [c.value for c in failed[1]][-1] == "エラー" and failed.max_row == 2


def test_import_runs_once_and_a_rerun_adds_nothing(town: Cli, tmp_path: Path) -> None:
    path = _write(tmp_path / "records.xlsx", SHEETS)
    refused = town.json("import", str(path), actor="tanaka", ok=False)  # a coordinator
    assert refused["code"] == "permission_denied"
    first = town.json("import", str(path), actor="sato", ok=False)  # one bad row: exit 1, the rest in
    assert (first["cases_opened"], first["added"], first["dry_run"]) == (2, 5, False)
    assert [(p["sheet"], p["row"], p["column"]) for p in first["problems"] if not p["warning"]] == [
        ("相談", 4, "相談日")
    ]
    shown = town("case", "show", "R6-0001").stdout
    assert "取込: 相談 2行目" in shown and "取込: 会議 2行目" in shown
    again = town.json("import", str(path), actor="sato", ok=False)
    assert again["added"] == 0 and [s["already"] for s in again["sheets"]] == [2, 2, 1]


def test_export_writes_the_same_layout(town: Cli, tmp_path: Path) -> None:
    path = _write(tmp_path / "records.xlsx", SHEETS)
    town("import", str(path), actor="sato", ok=False)
    out = tmp_path / "r6.xlsx"
    done = town.json("export", "--fy", "R6", "--output", str(out))
    assert done["rows"]["相談"] == 2 and done["rows"]["ケース"] == 2
    book = load_workbook(out)
    assert [c.value for c in book["ケース"][2]][:2] == ["A-1", "山田 太郎"]
    r7 = town.json("export", "--fy", "R7", "--output", str(tmp_path / "r7.xlsx"))
    assert r7["rows"]["相談"] == 0


def test_a_csv_in_shift_jis_with_the_citys_own_headers(town: Cli, tmp_path: Path) -> None:
    town("import", str(_write(tmp_path / "records.xlsx", SHEETS)), actor="sato", ok=False)
    csv = tmp_path / "相談受付台帳.csv"
    csv.write_bytes(
        "ケースNo,受付年月日,相談者区分,相談方法,相談内容\nA-1,R6.6.1,本人,電話,債務\n".encode("cp932")
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("sheets:\n  相談受付台帳: 相談\ncolumns:\n  相談:\n    ケースNo: 台帳番号\n", "utf-8")
    result = town.json("import", str(csv), "--mapping", str(mapping), actor="sato")
    assert (result["added"], result["cases_opened"]) == (1, 0)  # 受付年月日 is a known alias
    assert len(town.json("case", "show", "R6-0001")["case"]["contacts"]) == 2


def test_the_template_filled_in_imports(town: Cli, tmp_path: Path) -> None:
    target = tmp_path / "ひな形.xlsx"
    town("import", "template", "--output", str(target))
    book = load_workbook(target)
    person = ["T-1", "山田 太郎", "やまだ たろう", "S50.10.1", "山口市亀山町2-1", None, None, DESK]
    book["ケース"].append(person)
    book["相談"].append(["T-1", None, "令和6年4月1日", None, "本人", "電話", "収入・生活費のこと"])
    book.save(target)
    result = town.json("import", str(target), actor="sato")
    assert (result["cases_opened"], result["added"]) == (1, 2)
    assert not [p for p in result["problems"] if not p["warning"]]
