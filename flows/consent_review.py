"""Flow `consent-review`: the `consent_review` sweep, one task run per batch."""

from __future__ import annotations

from prefect import flow

from flows.common import SweepOutcome, SweepParams, run_sweep_flow


@flow(name="consent-review", log_prints=False)
def consent_review(params: SweepParams | None = None) -> SweepOutcome:
    """Remind coordinators when a consent reaches its review period."""
    return run_sweep_flow("consent_review", params or SweepParams())
