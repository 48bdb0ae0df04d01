"""訂正: the person's and the household's details (name, kana, birth date, address, DV flag).

Each changed field goes into the audit payload with its value before and after; an address
goes in only as the mask where the household is (or becomes) DV-protected, so the protected
address is never written into the hash-chained, permanent audit trail. Unchanged fields are
left out, and a correction that changes nothing is refused.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import col, select

from models import Case, Household, Person
from models.person import MASKED_ADDRESS
from yorisoi.errors import InvalidInput
from yorisoi.service import inputs as i
from yorisoi.service.effects import Act, Effect

PERSON_FIELDS = ("name", "kana", "birth_date")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def correct(act: Act[i.CorrectDetailsInput]) -> Effect:
    data, session = act.data, act.session
    person, household = session.exec(
        select(Person, Household)
        .join(Case, col(Case.person_id) == col(Person.id))
        .join(Household, col(Household.id) == col(Person.household_id))
        .where(Case.id == act.head.id)
    ).one()
    changes: dict[str, dict[str, Any]] = {}
    for name in PERSON_FIELDS:
        new = getattr(data, name)
        old = getattr(person, name)
        if new is not None and new != old:
            changes[name] = {"before": _plain(old), "after": _plain(new)}
            setattr(person, name, new)
    was_protected = household.dv_protected
    protected = was_protected if data.dv_protected is None else data.dv_protected
    if protected != was_protected:
        changes["dv_protected"] = {"before": was_protected, "after": protected}
        household.dv_protected = protected
    if data.address is not None and data.address != household.address:
        masked = was_protected or protected
        changes["address"] = {
            "before": MASKED_ADDRESS if masked else household.address,
            "after": MASKED_ADDRESS if masked else data.address,
        }
        household.address = data.address
    if not changes:
        raise InvalidInput(
            "訂正する項目がありません（入力は今の内容と同じです）。",
            "Nothing to correct: the input is the same as what is recorded.",
        )
    session.add_all([person, household])
    return Effect({"person_id": person.id, "household_id": household.id, "changes": changes})
