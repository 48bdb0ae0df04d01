"""終結: a proposal with reason and evaluation, decided (approved or sent back) by another supervisor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import select

from models import Closure
from models.closure import ClosureStatus
from models.keys import key
from yorisoi.service import inputs as i
from yorisoi.service.effects import Act, Effect, add_row


def propose(act: Act[i.ProposeClosureInput]) -> Effect:
    data = act.data
    assert data.reason is not None  # the closure_reason_complete guard holds
    closure_id = add_row(
        act.session,
        Closure(
            case_id=act.head.id,
            episode=act.head.episode,
            reason=data.reason,
            reason_text=data.reason_text,
            evaluation=data.evaluation,
            status=ClosureStatus.PROPOSED,
            proposed_by=key(act.actor),
            proposed_on=data.proposed_on,
        ),
    )
    return Effect(
        {
            "closure_id": closure_id,
            "reason": data.reason,
            "reason_text": data.reason_text,
            "status": ClosureStatus.PROPOSED.value,
            "proposed_by": key(act.actor),
            "proposed_on": data.proposed_on.isoformat(),
        }
    )


def decide(status: str) -> Callable[[Act[i.DecideClosureInput]], Effect]:
    """The effect of deciding the pending proposal: `ClosureStatus.APPROVED` or `.REJECTED`."""

    def apply(act: Act[i.DecideClosureInput]) -> Effect:
        data = act.data
        closure = act.session.exec(
            select(Closure).where(
                Closure.case_id == act.head.id,
                Closure.episode == act.head.episode,
                Closure.status == ClosureStatus.PROPOSED,
            )
        ).one()
        closure.status = status
        closure.decided_by = act.actor.id
        closure.decided_on = data.decided_on
        closure.decision_note = data.note
        updates: dict[str, Any] = {}
        if status == ClosureStatus.APPROVED:
            updates = {"closed_on": data.decided_on, "next_monitoring_on": None, "overdue": False}
        return Effect(
            {
                "closure_id": closure.id,
                "reason": closure.reason,
                "proposed_by": closure.proposed_by,
                "status": status,
                "decided_by": act.actor_id,
                "decided_on": data.decided_on.isoformat(),
            },
            updates,
        )

    return apply
