"""The sweeps: find what is coming due and queue reminders, in plain Python (no Prefect).

`run_day` runs every sweep for one day; the Prefect flows in `flows/` run the same `step`
per batch as task runs. Both are safe to re-run: reminders are keyed, marks are checked.
"""

from __future__ import annotations

from yorisoi.sweeps.runner import (
    SWEEPS,
    DayResult,
    SweepResult,
    run_batch,
    run_day,
    run_sweep,
    sweep_day,
)

__all__ = ["SWEEPS", "DayResult", "SweepResult", "run_batch", "run_day", "run_sweep", "sweep_day"]
