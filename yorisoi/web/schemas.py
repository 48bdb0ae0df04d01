"""The API's own bodies: sign-in, the generic action endpoint, the answers and the errors.

The bodies of the actions themselves are the case service's input models
(`yorisoi.service.inputs`), used as they are: their bounds are declared there, once.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.queries import CaseDetail

Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="The case version the page showed.")]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UnlockIn(BaseModel):
    """One of the two: a login, or a client address."""

    model_config = ConfigDict(extra="forbid")
    login: str | None = Field(None, min_length=1, max_length=64)
    client: str | None = Field(None, min_length=1, max_length=64)


class HeldOut(BaseModel):
    kind: str = Field(description="login or client")
    key: str
    failures: int
    locked: bool = Field(description="Locked (else only delayed)")
    until: dt.datetime


class Me(BaseModel):
    login: str
    name: str
    roles: list[str]
    team: str | None
    csrf_token: str = Field(description="Send it back as the X-CSRF-Token header on every change.")


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_version: Version | None = None
    data: dict[str, Any] = Field(default_factory=dict, description="The action's input, as for its form.")


class CaseOut(BaseModel):
    access: Literal["full", "meeting"] = Field(
        description="full: the whole record; meeting: the material of the meetings the viewer attended."
    )
    case: CaseDetail


class ReasonOut(BaseModel):
    guard: str
    message_ja: str
    message_en: str


class ActionOut(BaseModel):
    trigger: str
    ja: str
    en: str
    allowed: bool
    to_stage: str | None
    reasons: list[ReasonOut]


class ErrorOut(BaseModel):
    code: str
    message_ja: str
    message_en: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (401, "Not signed in"),
        (403, "Permission, access or CSRF refusal"),
        (404, "Unknown case"),
        (409, "Version conflict"),
        (413, "Request body too large"),
        (422, "Invalid input, action not allowed now, or a rule does not hold"),
        (429, "Too many failed sign-ins: wait (Retry-After) or ask for an unlock"),
    )
}
