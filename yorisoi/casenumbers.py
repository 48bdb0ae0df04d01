"""Case numbers as people type them: `Ｒ６－００１７`, `r6-17`, `R6ー0017` all mean `R6-0017`.

Case numbers are `{era letter}{era year}-{serial, at least 4 digits}` (`yorisoi.service.cases`).
Staff copy them from paper, from Excel, from a Japanese IME that gives full-width letters and
digits and a long-vowel mark or a minus sign for the hyphen; every search box and filter folds
them here, so `R6-0017` is found however it was typed.
"""

from __future__ import annotations

import re
import unicodedata

from yorisoi.errors import InvalidInput

# Hyphen look-alikes an IME or a spreadsheet gives (after NFKC, which folds －, ｰ stays ー).
_DASHES = str.maketrans(dict.fromkeys("ー‐‑‒–—―−﹣", "-"))
_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"^([A-Z]{1,2})(\d{1,3})-(\d{1,9})$")


def normalize_case_number(text: str) -> str:
    """The canonical form of a typed case number (NFKC, hyphens, upper case, a serial shorter
    than 4 digits padded to 4 as `yorisoi.service.cases` writes it).

    Text that is not shaped like a case number is refused with a message saying what is."""
    folded = _SPACES.sub("", unicodedata.normalize("NFKC", text)).translate(_DASHES).upper()
    found = _NUMBER.match(folded)
    if found is None:
        shown = text.strip()[:32]
        raise InvalidInput(
            f"ケース番号「{shown}」の形が正しくありません（例: R7-0001。全角でも入力できます）。",
            f"{shown!r} is not a case number (e.g. R7-0001).",
        )
    era, year, serial = found.groups()
    return f"{era}{int(year)}-{serial.zfill(4)}"  # as typed beyond 4 digits: never drop a zero
