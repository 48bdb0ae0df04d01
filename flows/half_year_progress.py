"""Flow `half-year-progress`: the `half_year_progress` sweep, one task run per batch."""

from __future__ import annotations

from prefect import flow

from flows.common import SweepOutcome, SweepParams, run_sweep_flow


@flow(name="half-year-progress", log_prints=False)
def half_year_progress(params: SweepParams | None = None) -> SweepOutcome:
    """Send supervisors the progress list before each half-yearly meeting."""
    return run_sweep_flow("half_year_progress", params or SweepParams())
