"""The lifecycle in force: stages with their kinds, triggers with their actions and roles, transitions
with their guards."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from states.diagram import mermaid
from yorisoi.web.deps import CurrentUser, MachineDep
from yorisoi.web.schemas import ERRORS

router = APIRouter(prefix="/api", tags=["lifecycle"], responses=ERRORS)


@router.get("/lifecycle")
def lifecycle(user: CurrentUser, machine: MachineDep) -> dict[str, Any]:
    """The lifecycle as data, and as a Mermaid state diagram."""
    lc = machine.lifecycle
    return {
        "name": lc.name,
        "version": lc.version,
        "initial": lc.initial,
        "stages": [
            {"name": s.name, "ja": s.ja, "en": s.en, "final": s.final, "kind": s.kind} for s in lc.stages
        ],
        "triggers": [
            {"name": t.name, "ja": t.ja, "en": t.en, "roles": sorted(t.roles), "action": t.action}
            for t in lc.triggers.values()
        ],
        "transitions": [
            {"trigger": t.trigger, "sources": list(t.sources), "dest": t.dest, "guards": list(t.guards)}
            for t in lc.transitions
        ],
        "mermaid": mermaid(lc),
    }
