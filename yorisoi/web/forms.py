"""Read a posted page form into an action's input, by the shape of the input model alone.

The fields of a form follow the model (`yorisoi.service.inputs`), so no action needs a reader
of its own:

- a plain field by its name (`held_on`); left empty, it is left out and the model's default
  (today's date …) applies;
- a yes/no field as a checkbox (`dv_protected`);
- a list of plain values as repeated fields (`topics`, `agency_ids`);
- a list of rows as `<field>-<n>-<name>` (`attendees-0-name`), rows with nothing typed in
  skipped;
- a nested model's fields under their own names (a reopen's contact: `contacted_on` …).

Validation is the model's own, done once by the case service: a bad value comes back as
`InvalidInput` naming the field.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from starlette.datastructures import FormData

_CHECKED = {"on", "true", "1", "yes"}


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _strip_optional(annotation: Any) -> Any:
    """`X | None` → X (forms cannot say None other than by leaving a field empty)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _model(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _rows(form: FormData, prefix: str, model: type[BaseModel]) -> list[dict[str, Any]]:
    """Rows `prefix-N-field` in order of N, skipping rows with nothing typed in."""
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
        row = _fields(form, model, f"{prefix}-{index}-")
        if any(value not in ("", False) for value in row.values()):
            rows.append(row)
    return rows


def _fields(form: FormData, model: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        annotation = _strip_optional(info.annotation)
        nested = _model(annotation)
        if nested is not None:
            data[name] = _fields(form, nested, prefix)
            continue
        if typing.get_origin(annotation) is list:
            (item,) = typing.get_args(annotation)
            row_model = _model(_strip_optional(item))
            if row_model is not None:
                data[name] = _rows(form, name, row_model)
            else:
                values = [v.strip() for v in form.getlist(prefix + name) if isinstance(v, str) and v.strip()]
                if values or prefix + name in form:
                    data[name] = values
            continue
        if annotation is bool:
            data[name] = text(form, prefix + name) in _CHECKED
            continue
        value = text(form, prefix + name)
        if value:
            data[name] = value
    return data


def read(form: FormData, model: type[BaseModel]) -> dict[str, Any]:
    """The input of `model` from a posted form (validated later, by the case service)."""
    return _fields(form, model)


def expected_version(form: FormData) -> int | None:
    value = text(form, "expected_version")
    return int(value) if value.isdigit() and len(value) < 10 else None


__all__ = ["expected_version", "read", "text"]
