"""Flow `monitoring-due`: the `monitoring_due` sweep, one task run per batch."""

from __future__ import annotations

from prefect import flow

from flows.common import SweepOutcome, SweepParams, run_sweep_flow


@flow(name="monitoring-due", log_prints=False)
def monitoring_due(params: SweepParams | None = None) -> SweepOutcome:
    """Remind coordinators of monitoring dates; escalate overdue cases to supervisors."""
    return run_sweep_flow("monitoring_due", params or SweepParams())
