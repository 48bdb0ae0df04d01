"""Turn posted page forms into the case service's input, through the API's bounded models.

Form fields are flat (`attendee-0-name`, `goal-1-goal`, …); rows left empty are skipped and
empty fields are left out, so the service's defaults (today's date …) apply. Validation is
the service's own: a bad value comes back as `InvalidInput` naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from starlette.datastructures import FormData

from yorisoi.service.inputs import NoteInput, parse_input
from yorisoi.web.schemas import TRIGGER_DATA, ConsentIn, ContactIn, IntakeIn

ROWS = {"attendee": 5, "goal": 3, "role": 4, "ext": 2}
"""How many empty rows a form offers for each repeated part (more with ?rows=N)."""


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _present(form: FormData, names: Iterable[str]) -> dict[str, Any]:
    """The non-empty fields among `names`."""
    return {name: value for name in names if (value := text(form, name))}


def _rows(form: FormData, prefix: str, fields: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(N, row) for rows `prefix-N-field` in order of N, skipping rows with nothing typed in."""
    indices = sorted(
        {
            int(parts[1])
            for key in form
            if (parts := key.split("-"))[0] == prefix
            and len(parts) == 3
            and parts[1].isdigit()
            and len(parts[1]) <= 3
        }
    )
    rows = []
    for index in indices:
        row = {f: text(form, f"{prefix}-{index}-{f}") for f in fields}
        if any(row.values()):
            rows.append((index, row))
    return rows


def _checked(form: FormData, name: str) -> bool:
    return text(form, name) in {"on", "true", "1", "yes"}


def contact(form: FormData) -> dict[str, Any]:
    data = _present(form, ("contacted_on", "referrer", "method", "desk_id", "note"))
    data["topics"] = [t for t in form.getlist("topics") if isinstance(t, str) and t.strip()]
    return data


def intake(form: FormData) -> dict[str, Any]:
    person = _present(form, ("name", "kana", "birth_date", "address"))
    person["name"] = text(form, "name")
    person["dv_protected"] = _checked(form, "dv_protected")
    return _valid(IntakeIn, {"person": person, "contact": contact(form)}, "open_case")


def consent(form: FormData) -> dict[str, Any]:
    data = _present(form, ("given_on", "method", "note"))
    data["agency_ids"] = [a for a in form.getlist("agency_ids") if isinstance(a, str) and a.strip()]
    return _valid(ConsentIn, data, "give_consent")


def _meeting(form: FormData) -> dict[str, Any]:
    data = _present(form, ("held_on", "title", "decisions"))
    data["attendees"] = [
        {
            **{k: v for k, v in row.items() if v and k != "ack"},
            "name": row["name"],
            "acknowledged_confidentiality": row["ack"] in {"on", "true", "1"},
        }
        for _index, row in _rows(form, "attendee", ("name", "agency_id", "staff_id", "ack"))
    ]
    return data


def _plan(form: FormData) -> dict[str, Any]:
    data = _present(form, ("drafted_on", "household_goal", "monitoring_interval_days"))
    data["goals"] = [row for _index, row in _rows(form, "goal", ("problem", "goal"))]
    lead = text(form, "lead")
    data["roles"] = [
        {"agency_id": row["agency_id"], "role": row["role"], "is_lead": lead == str(index)}
        for index, row in _rows(form, "role", ("agency_id", "role"))
    ]
    data["external_plans"] = [
        {k: v for k, v in row.items() if v}
        for _index, row in _rows(form, "ext", ("kind", "agency_id", "note"))
    ]
    return data


_FIELDS: dict[str, tuple[str, ...]] = {
    "approve_plan": ("meeting_id", "approved_on"),
    "record_monitoring": ("held_on", "summary", "next_on"),
    "withdraw_consent": ("withdrawn_on",),
    "propose_closure": ("proposed_on", "reason", "reason_text", "evaluation"),
    "reject_closure": ("decided_on", "note"),
    "approve_closure": ("decided_on", "note"),
}


def action(form: FormData, trigger: str) -> dict[str, Any]:
    """The input of lifecycle action `trigger` from its form."""
    if trigger in {"hold_support_meeting", "hold_multilayer_meeting"}:
        data = _meeting(form)
    elif trigger in {"draft_plan", "revise_plan"}:
        data = _plan(form)
    elif trigger == "reopen":
        data = {"contact": contact(form)}
    elif trigger in _FIELDS:
        data = _present(form, _FIELDS[trigger])
    else:
        data = _present(form, ("note",))
    return _valid(TRIGGER_DATA.get(trigger, NoteInput), data, trigger)


def expected_version(form: FormData) -> int | None:
    value = text(form, "expected_version")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _valid(model: type[BaseModel], data: dict[str, Any], what: str) -> dict[str, Any]:
    return parse_input(model, data, what).model_dump()  # type: ignore[type-var]


__all__ = ["ROWS", "ContactIn", "action", "consent", "contact", "expected_version", "intake", "text"]
