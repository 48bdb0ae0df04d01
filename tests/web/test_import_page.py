"""The import page: a supervisor uploads a workbook, sees the dry run, downloads the failed rows,
confirms; nobody else may."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import select

from models import Case
from tests.importing.test_messy_workbook import _write
from tests.web.conftest import Web, csrf_of

SHEETS = {
    "ケース": [["台帳番号", "氏名", "受付窓口"], ["W-1", "山田 太郎", "ふくまる相談室 中央"]],
    "相談": [
        ["台帳番号", "相談日", "相談者区分", "相談方法", "相談内容"],
        ["W-1", "R6.4.1", "本人", "電話", "収入"],
        ["W-1", "R6.4.31", "本人", "電話", "収入"],
    ],
}


def test_supervisor_checks_then_imports_an_upload(web: Web, tmp_path: Path) -> None:
    page = web.page_as(web.world.supervisor)
    form = page.get("/import")
    assert form.status_code == 200 and "記録の取込" in form.text
    upload = _write(tmp_path / "台帳.xlsx", SHEETS).read_bytes()
    checked = page.post(
        "/import",
        data={"csrf_token": csrf_of(form.text)},
        files={"file": ("台帳.xlsx", upload, "application/octet-stream")},
    )
    assert checked.status_code == 200
    assert "確認の結果（何も書き込んでいません）" in checked.text and "存在しない日付です" in checked.text
    with web.session() as session:
        assert session.exec(select(Case)).all() == []
    digest = checked.text.split("/import/")[1].split("/")[0]
    errors = page.get(f"/import/{digest}/errors.xlsx")
    assert errors.status_code == 200
    failed = load_workbook(BytesIO(errors.content))["相談"]
    assert failed.max_row == 2 and "存在しない日付です" in str(failed.cell(2, failed.max_column).value)
    done = page.post(
        f"/import/{digest}/confirm", data={"csrf_token": csrf_of(checked.text), "name": "台帳.xlsx"}
    )
    assert done.status_code == 200 and "取り込みました" in done.text
    with web.session() as session:
        assert [c.external_ref for c in session.exec(select(Case)).all()] == ["W-1"]
    gone = page.post(f"/import/{digest}/confirm", data={"csrf_token": csrf_of(done.text)})
    assert gone.status_code == 404  # the upload is removed once imported


def test_only_supervisors_may_import(web: Web) -> None:
    page = web.page_as(web.world.coordinator)
    assert page.get("/import").status_code == 403
    assert "/import" not in page.get("/").text
