"""`yorisoi import` of 20,000 contacts and their 4,000 cases into an empty SQLite database.

Run:  .venv/bin/python bench/import.py [--rebuild] [--contacts 20000]

Setup (untimed, cached): the workbook is generated with openpyxl into
`bench/out/import-<spec>-<contacts>.xlsx` and reused while the specification below is
unchanged (`--rebuild` forces a new one). It is written the way staff fill the template in:
dates in 和暦 (R6.4.1, 令和6年4月1日) and 西暦 (2024/4/1) and as Excel date cells, 相談者区分
and 相談方法 as labels, 相談内容 as labels (one to three, 「、」-separated), a desk on some rows
and none (the case's own) on the others, stray spaces, and every 訪問 contact counted as the
outreach visit too. Sheets: 関係機関 (ten desks), 職員 (one coordinator), ケース (one row per
case: name, kana, birth date, address, desk), 相談 (five contacts per case over 令和6年度).

Timed, in a child process so that the peak RSS is the import's own: a fresh database made by
the migrations and the importing supervisor added (untimed), then the real import —
`yorisoi.importing.runner.run_import`, what `yorisoi import FILE` calls: the workbook read and
checked, every row through the case service (the case opened with its first contact, the
others added; audit event, outbox message and the row's key each), in batches of whole cases.
`import_s` is its wall time, `rows_per_s` = rows ÷ import_s, where rows counts every data row
of the workbook (directory, cases and contacts). The run asserts that every row went in and
that the annual report counts every contact. Targets (issue 12): rows_per_s >= 1,000,
peak_rss_mb < 500.

The last line of output is one JSON object:
{"rows": …, "import_s": …, "rows_per_s": …, "peak_rss_mb": …, …}
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# bench/transitions.py is named like the `transitions` package the lifecycle machine imports;
# run as a script, this directory comes first on sys.path and would shadow that package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

SPEC = "v1"  # bump when the workbook's shape changes, so a stale cache is never reused
OUT = _HERE / "out"
CONTACTS_PER_CASE = 5
DESKS = ["中央", "大殿", "白石", "湯田", "仁保", "小郡", "秋穂", "阿知須", "徳地", "社協本所"]
REFERRERS = (["本人", "家族・親族", "地域", "関係機関等"], [740, 226, 80, 756])
METHODS = (["来所", "電話", "訪問", "その他", ""], [154, 1079, 421, 104, 44])
TOPICS = [
    "介護に関すること",
    "こころの問題に関すること",
    "収入・生活費のこと",
    "住まいについて",
    "債務について",
    "仕事探し・就職について",
    "家族との関係について",
    "病気や健康に関すること",
    "ひきこもり・不登校",
    "その他",
]
R6_START = dt.date(2024, 4, 1)


def _date(day: dt.date, n: int) -> object:
    from yorisoi.jpdates import era_of

    era = era_of(day)
    forms: list[object] = [
        f"{era.letter}{era.year}.{day.month}.{day.day}",
        f"{era.kanji}{era.year_ja}年{day.month}月{day.day}日",
        f"{day.year}/{day.month}/{day.day}",
        dt.datetime(day.year, day.month, day.day),
    ]
    return forms[n % len(forms)]


def generate(path: Path, contacts: int) -> None:
    from openpyxl import Workbook

    rng = random.Random(12)
    cases = contacts // CONTACTS_PER_CASE
    book = Workbook(write_only=True)
    agencies = book.create_sheet("関係機関")
    agencies.append(["機関名", "分野", "受付窓口"])
    for desk in DESKS:
        agencies.append([f"ふくまる相談室 {desk}", "地域", "はい"])
    staff = book.create_sheet("職員")
    staff.append(["ログイン名", "氏名", "役割"])
    staff.append(["tanaka", "田中 花子", "相談支援員（コーディネーター）"])
    people = book.create_sheet("ケース")
    people.append(["台帳番号", "氏名", "ふりがな", "生年月日", "住所", "受付窓口"])
    for c in range(cases):
        born = dt.date(rng.randint(1940, 2008), rng.randint(1, 12), rng.randint(1, 28))
        people.append(
            [
                f"Y-{c + 1:05d}",
                f"相談者 {c + 1}",
                "そうだんしゃ",
                _date(born, c),
                f"山口市亀山町{c % 50 + 1}-{c % 7 + 1}",
                f"ふくまる相談室 {DESKS[c % len(DESKS)]}",
            ]
        )
    sheet = book.create_sheet("相談")
    sheet.append(
        ["台帳番号", "相談日", "受付窓口", "相談者区分", "相談方法", "相談内容", "アウトリーチ訪問", "記録者"]
    )
    for n in range(contacts):
        c, k = n % cases, n // cases  # the k-th contact of case c: all first contacts come first
        day = R6_START + dt.timedelta(days=(c * 200) // cases + k * 30)
        method = rng.choices(*METHODS)[0]
        sheet.append(
            [
                f"Y-{c + 1:05d}",
                _date(day, n),
                f"ふくまる相談室 {DESKS[c % len(DESKS)]}" if n % 3 == 0 else None,
                rng.choices(*REFERRERS)[0] + (" " if n % 7 == 0 else ""),
                method,
                "、".join(rng.sample(TOPICS, rng.randint(1, 3))),
                "○" if method == "訪問" else None,
                "tanaka" if n % 2 else None,
            ]
        )
    book.save(path)


def run(path: Path, contacts: int) -> dict[str, object]:
    """In the child process: an empty database, then the timed import."""
    from sqlmodel import Session

    from models.db import create_db_engine, migrate
    from states import default_machine
    from yorisoi.importing.runner import run_import
    from yorisoi.reports.build import build_annual
    from yorisoi.service import directory
    from yorisoi.settings import get_settings

    folder = Path(tempfile.mkdtemp(prefix="yorisoi-import-bench-"))
    os.environ["YORISOI_DATA_DIR"] = str(folder)
    get_settings.cache_clear()
    engine = create_db_engine(f"sqlite:///{folder / 'yorisoi.db'}")
    migrate(engine)
    with Session(engine) as session:
        directory.add_staff(session, login="boss", name="取込 担当", roles=["supervisor"])
    machine = default_machine()
    started = time.perf_counter()
    cpu = time.process_time()
    result = run_import(engine, machine, path, actor="boss")
    import_s = time.perf_counter() - started
    import_cpu_s = time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert result.errors == [], result.errors[:5]
    assert result.tallies["相談"].added == contacts
    with Session(engine) as session:
        report = build_annual(
            session, fiscal_year=2024, as_of=dt.date(2026, 3, 31), topics=get_settings().topics()
        )
    assert report.consultation.total.contacts == contacts, report.consultation.total
    engine.dispose()
    return {
        "rows": result.rows,
        "import_s": round(import_s, 2),
        "rows_per_s": round(result.rows / import_s),
        "peak_rss_mb": round(peak_mb, 1),
        "import_cpu_s": round(import_cpu_s, 2),
        "cases": result.cases_opened,
        "contacts": contacts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached workbook")
    parser.add_argument("--contacts", type=int, default=20_000, help="contacts (five per case)")
    parser.add_argument("--run-only", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.run_only:
        print(json.dumps(run(args.run_only, args.contacts)))
        return
    OUT.mkdir(exist_ok=True)
    workbook = OUT / f"import-{SPEC}-{args.contacts}.xlsx"
    if args.rebuild:
        workbook.unlink(missing_ok=True)
    if not workbook.exists():
        print(f"generating {workbook} (once; cached for later runs) …", flush=True)
        generate(workbook, args.contacts)
    child = subprocess.run(
        [sys.executable, __file__, "--run-only", str(workbook), "--contacts", str(args.contacts)],
        capture_output=True,
        text=True,
    )
    if child.returncode != 0:
        sys.exit(f"the import failed:\n{child.stderr}")
    result = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"imported {result['rows']:,} rows ({result['cases']:,} cases, {result['contacts']:,} contacts) "
        f"in {result['import_s']} s (CPU {result['import_cpu_s']} s): {result['rows_per_s']:,} rows/s, "
        f"peak RSS {result['peak_rss_mb']} MB"
    )
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1) / 2:
        print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs: other work skews the times")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
