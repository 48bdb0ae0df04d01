"""A typed endpoint per action, derived from the action registry.

`POST /api/cases/{number}<path>` for every action whose registry entry names an `Api`: the
request body is the action's own input model plus `expected_version`, so the OpenAPI document
shows its fields and bounds, and the body FastAPI validated goes to the case service as it is.
A lifecycle action is fired through the trigger the case's stage offers for it (a plan is
drafted or revised depending on the stage); a record action by its name. The generic endpoint
for any trigger, a municipality's own included, is in `actions.py`.
"""

# No `from __future__ import annotations`: FastAPI reads the endpoints' annotations, which
# name request models built in the loop below.

from collections import defaultdict
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field, create_model

from models import Staff
from yorisoi.service import cases, viewing
from yorisoi.service.cases import Fired
from yorisoi.service.registry import ACTIONS, ActionSpec
from yorisoi.web.deps import CurrentUser, HeaderCsrf, MachineDep, SessionDep, viewer_of
from yorisoi.web.schemas import ERRORS, Version

router = APIRouter(
    prefix="/api/cases/{number}", tags=["records"], responses=ERRORS, dependencies=[HeaderCsrf]
)


def _request_model(name: str, spec: ActionSpec) -> type[BaseModel]:
    title = "".join(part.title() for part in name.split("_")) + "Request"
    return create_model(
        title,
        __base__=spec.input,
        expected_version=(Version | None, Field(default=None)),
    )


def _endpoint(specs: list[ActionSpec], model: type[BaseModel]) -> Callable[..., Fired]:
    def endpoint(
        number: str,
        body: Annotated[model, Body()],  # type: ignore[valid-type]
        session: SessionDep,
        user: CurrentUser,
        machine: MachineDep,
    ) -> Fired:
        case_id = viewing.case_for_action(session, viewer_of(user), number, channel="api")
        staff: Staff = user
        values: Any = body
        return cases.fire(
            session=session,
            case_id=case_id,
            action=cases.name_for(session, machine, case_id, *(s.name for s in specs)),
            actor=staff,
            machine=machine,
            expected_version=values.expected_version,
            input=values,
        )

    return endpoint


def _register() -> None:
    by_path: dict[str, list[ActionSpec]] = defaultdict(list)
    for spec in ACTIONS.values():
        if spec.api is not None:
            by_path[spec.api.path].append(spec)
    for path, specs in by_path.items():
        first = specs[0]
        assert first.api is not None
        if len({s.input for s in specs}) != 1:
            raise RuntimeError(f"actions sharing {path} must take the same input")
        model = _request_model(first.name if len(specs) == 1 else path.strip("/").replace("/", "_"), first)
        router.add_api_route(
            path,
            _endpoint(specs, model),
            methods=["POST"],
            status_code=first.api.status_code,
            response_model=Fired,
            summary=" / ".join(dict.fromkeys(s.ja for s in specs)),
            description=first.api.summary,
            operation_id="_".join(s.name for s in specs),
        )


_register()
