"""Reading a cell as staff write it: the value a column needs, or a Japanese reason why not.

Text is folded with NFKC (full-width digits and letters, half-width katakana) with its runs of
spaces collapsed; dates go to `yorisoi.jpdates.parse_sheet_date`; a coded value may be its
code, its Japanese label, the label without its tail (「住まい」 for 「住まいについて」), or one of
the column's other spellings, or a shortening only one label fits (「収入」); several values are
separated by 、 , ; or new lines.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from yorisoi.errors import InvalidInput
from yorisoi.importing.layout import Column, Kind
from yorisoi.jpdates import parse_sheet_date

_SPACES = re.compile(r"\s+")
_LIST = re.compile(r"[、,，;；\n]+")
_PAIR = re.compile(r"[：:]")
_TAILS = ("に関すること", "に関する相談", "について", "のこと")
_OLD_FORMS = str.maketrans({"關": "関", "﨑": "崎", "髙": "高"})
TRUE_WORDS = frozenset(
    {"はい", "○", "〇", "◯", "✓", "✔", "有", "あり", "該当", "対象", "1", "true", "yes", "y"}
)
FALSE_WORDS = frozenset(
    {"いいえ", "×", "✕", "無", "なし", "非該当", "対象外", "0", "false", "no", "n", "-", "ー"}
)


class CellProblem(Exception):
    """Why a cell cannot be read, in Japanese and English."""

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(f"{ja} / {en}")
        self.ja = ja
        self.en = en


def fold(value: object) -> str:
    """One line of text as it is kept: NFKC (full-width digits and letters, half-width kana),
    single spaces, stripped. Kanji stay as written: 髙橋 is not 高橋 in a person's name."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", str(value))).strip()


def squeeze(value: object) -> str:
    """How names, labels and headers are matched: `fold`, old kanji forms as today's (山口市's
    table writes 關), no spaces, lower-cased."""
    return fold(value).translate(_OLD_FORMS).replace(" ", "").lower()


def is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _number_text(cell: object) -> str:
    """An Excel number as the text it shows (12 and 12.0 → "12")."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


@lru_cache(maxsize=64)
def _index(labels: tuple[tuple[str, str], ...], spellings: tuple[tuple[str, str], ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for code, label in labels:
        found.setdefault(squeeze(code), code)
        found.setdefault(squeeze(label), code)
        for tail in _TAILS:
            if label.endswith(tail):
                found.setdefault(squeeze(label.removesuffix(tail)), code)
    for word, code in spellings:
        found.setdefault(squeeze(word), code)
    return found


@lru_cache(maxsize=64)
def _parts(labels: tuple[tuple[str, str], ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each code with its label and the label's parts (「収入・生活費のこと」: 収入, 生活費のこと)."""
    return tuple(
        (code, (squeeze(label), *(squeeze(part) for part in re.split(r"[・/]", label) if part)))
        for code, label in labels
    )


def _shortened(text: str, labels: tuple[tuple[str, str], ...]) -> str | None:
    """The one code whose label starts with `text` or has it as one of its parts (「収入」)."""
    wanted = squeeze(text)
    if len(wanted) < 2:
        return None
    found = {code for code, parts in _parts(labels) if parts[0].startswith(wanted) or wanted in parts[1:]}
    return found.pop() if len(found) == 1 else None


def code_of(column: Column, text: str, vocabulary: Mapping[str, str]) -> str:
    labels = tuple(vocabulary.items())
    found = _index(labels, column.spellings).get(squeeze(text)) or _shortened(text, labels)
    if found is None:
        choices = "、".join(vocabulary.values())
        raise CellProblem(
            f"「{text}」は選べません（選べる値: {choices}）",
            f"{text!r} is not one of: {', '.join(vocabulary)}",
        )
    return found


def split(cell: object) -> list[str]:
    return [part for part in (fold(p) for p in _LIST.split(str(cell))) if part]


def _pairs(cell: object, what_ja: str, what_en: str, *, need_left: bool) -> list[tuple[str, str]]:
    pairs = []
    for line in (fold(x) for x in str(cell).splitlines() if x.strip()):
        parts = _PAIR.split(line, maxsplit=1)
        left, right = (parts[0].strip(), parts[1].strip()) if len(parts) == 2 else ("", line)
        if not right or (need_left and not left):
            raise CellProblem(
                f"「{line}」は「{what_ja}」の形で書いてください", f"write {line!r} as {what_en}"
            )
        pairs.append((left, right))
    return pairs


def read(column: Column, cell: object) -> Any:
    """The column's value from a cell that is not blank; `CellProblem` if it cannot be read."""
    kind = column.kind
    if kind is Kind.DATE:
        try:
            return parse_sheet_date(cell)
        except InvalidInput as exc:
            raise CellProblem(exc.ja, exc.en) from None
    if isinstance(cell, dt.date | dt.datetime) and kind not in (Kind.TEXT, Kind.LINE):
        raise CellProblem(
            f"日付ではなく{column.header}を書いてください", f"expected {column.key}, not a date"
        )
    if kind is Kind.TEXT:
        return str(cell).replace("\r\n", "\n").strip()
    if kind in (Kind.REF, Kind.LINE, Kind.STAFF, Kind.AGENCY, Kind.PROVIDER):
        return fold(_number_text(cell))
    if kind is Kind.BOOL:
        word = squeeze(_number_text(cell))
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise CellProblem(
            f"「{cell}」は はい／いいえ で書いてください（○／× も可）", f"{cell!r} is not yes/no"
        )
    if kind is Kind.INT:
        text = fold(_number_text(cell))
        if not text.isdigit():
            raise CellProblem(f"「{cell}」は整数で書いてください", f"{cell!r} is not a whole number")
        return int(text)
    assert column.vocabulary is not None or kind not in (Kind.CODE, Kind.CODES)
    if kind is Kind.CODE:
        assert column.vocabulary is not None
        return code_of(column, fold(_number_text(cell)), column.vocabulary())
    if kind is Kind.CODES:
        assert column.vocabulary is not None
        vocabulary = column.vocabulary()
        codes, unknown = [], []
        for part in split(cell):
            try:
                codes.append(code_of(column, part, vocabulary))
            except CellProblem:
                unknown.append(part)
        if unknown:
            raise CellProblem(
                f"選べない値があります: {'、'.join(unknown)}（選べる値: {'、'.join(vocabulary.values())}）",
                f"not in the list: {', '.join(unknown)}",
            )
        return list(dict.fromkeys(codes))
    if kind is Kind.AGENCIES:
        return list(dict.fromkeys(split(cell)))
    if kind is Kind.GOALS:
        return _pairs(cell, "課題：目標", "problem: goal", need_left=False)
    if kind is Kind.ROLES:
        return _pairs(cell, "機関名：役割", "agency: role", need_left=True)
    raise AssertionError(kind)  # pragma: no cover


def plain(value: Any) -> Any:
    """A read value as JSON-ready text for keys and digests (dates ISO, pairs as lists)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
