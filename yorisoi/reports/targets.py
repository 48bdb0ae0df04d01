"""Targets (目標) per 年度 from a YAML file: the numbers a 実施計画 promises, indicator by indicator.

```yaml
plan: 第2期重層的支援体制整備事業実施計画（令和7年3月）
targets:
  participation.program_type_b.enrolments: {R7: 2, R8: 3, R9: 3}
```

A 年度 may be written `R7`, `令和7年度`, `令和元年度` or `2025`. Indicator keys are those of
`yorisoi.reports.indicators`; an unknown key is refused with the list of known ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from yorisoi.errors import InvalidInput
from yorisoi.jpdates import parse_fiscal_year
from yorisoi.reports.indicators import INDICATORS


class _TargetsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: str = ""
    targets: dict[str, dict[str | int, Annotated[StrictInt, Field(ge=0)]]] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Targets:
    """indicator key → {年度: target}."""

    plan: str = ""
    values: dict[str, dict[int, int]] = field(default_factory=dict)

    def get(self, indicator: str, fiscal_year: int) -> int | None:
        return self.values.get(indicator, {}).get(fiscal_year)

    def for_year(self, fiscal_year: int) -> dict[str, int]:
        return {k: years[fiscal_year] for k, years in self.values.items() if fiscal_year in years}


def load_targets(path: Path | None) -> Targets:
    """Read a targets file; `None` means no targets. Any mistake is refused, naming it."""
    if path is None:
        return Targets()
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except OSError as exc:
        raise InvalidInput(
            f"目標ファイル {path} を読めません: {exc.strerror}", f"Cannot read targets file {path}: {exc}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise InvalidInput(
            f"目標ファイル {where} は YAML として読めません。", f"{where} is not valid YAML: {exc}"
        ) from None
    try:
        parsed = _TargetsFile.model_validate(raw or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(
            f"目標ファイル {path} の内容に誤りがあります（目標は 0 以上の整数）: {problems}",
            f"Targets file {path} is invalid (targets are integers >= 0): {problems}",
        ) from None
    unknown = sorted(set(parsed.targets) - set(INDICATORS))
    if unknown:
        known = ", ".join(INDICATORS)
        raise InvalidInput(
            f"目標ファイル {path} に不明な指標があります: {', '.join(unknown)}（使える指標: {known}）",
            f"Targets file {path} names unknown indicators {unknown}; known: {known}.",
        )
    values: dict[str, dict[int, int]] = {}
    for indicator, years in parsed.targets.items():
        for year, target in years.items():
            try:
                fy = parse_fiscal_year(str(year))
            except InvalidInput:
                raise InvalidInput(
                    f"目標ファイル {path} の {indicator} の年度 {year!r} を読めません（例: R7, 2025）。",
                    f"Targets file {path}: {indicator} has an unreadable 年度 {year!r} (e.g. R7, 2025).",
                ) from None
            if fy in values.setdefault(indicator, {}):
                raise InvalidInput(
                    f"目標ファイル {path} の {indicator} に同じ年度が2回あります: {year}",
                    f"Targets file {path}: {indicator} names the same 年度 twice ({year}).",
                )
            values[indicator][fy] = target
    return Targets(parsed.plan, values)
