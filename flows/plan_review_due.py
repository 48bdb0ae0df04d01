"""Flow `plan-review-due`: the `plan_review_due` sweep, one task run per batch."""

from __future__ import annotations

from prefect import flow

from flows.common import SweepOutcome, SweepParams, run_sweep_flow


@flow(name="plan-review-due", log_prints=False)
def plan_review_due(params: SweepParams | None = None) -> SweepOutcome:
    """Remind coordinators when a support plan's review date comes up."""
    return run_sweep_flow("plan_review_due", params or SweepParams())
