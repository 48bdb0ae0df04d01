"""Flow `short-stay-ending`: the `short_stay_ending` sweep, one task run per batch."""

from __future__ import annotations

from prefect import flow

from flows.common import SweepOutcome, SweepParams, run_sweep_flow


@flow(name="short-stay-ending", log_prints=False)
def short_stay_ending(params: SweepParams | None = None) -> SweepOutcome:
    """Remind coordinators before a short stay ends and after it overran."""
    return run_sweep_flow("short_stay_ending", params or SweepParams())
