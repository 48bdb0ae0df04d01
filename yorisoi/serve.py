"""`yorisoi serve`: every flow on its schedule, on one machine, with Prefect's `serve`.

Schedules need a real Prefect server (the temporary one Prefect starts for a lone flow run
creates no scheduled runs). So `serve` uses the server at PREFECT_API_URL when one is set;
otherwise it starts `prefect server start` itself — SQLite under `<data_dir>/prefect`, on
loopback — waits until it answers, and stops it again when `serve` exits.

What runs when (Asia/Tokyo):
- the five sweeps at `sweep.cron` (08:30 on weekdays; each flow skips holidays and 閉庁日);
  `monitoring-due` also runs when a case enters 支援・モニタリング (a deployment trigger on
  the `yorisoi.case.stage-changed` event: the example of an automation on yorisoi's events);
- `dispatch-notifications` at `sweep.dispatch_cron` (messages still wait for business hours);
- `relay-events` every `sweep.relay_interval_seconds`, turning case actions into those events;
- `audit-verify` at `audit.verify_cron` (02:00 daily): every audit trail verified, the result
  recorded for the web audit page;
- `audit-checkpoint` at `audit.checkpoint_cron` (19:00 daily), when a checkpoint key is
  configured: without one it is left out, and `serve` says so.

Prefect is imported inside the functions that need it, never at module import.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from yorisoi.settings import Settings

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

TIMEZONE = "Asia/Tokyo"
SERVE_DEPLOYMENT = "serve"
CONCURRENT_RUNS = 4
"""Flow runs `serve` starts at once (each is a process; a burst of triggers must not swamp one machine)."""
STAGE_CHANGED = "yorisoi.case.stage-changed"


def prefect_home(settings: Settings) -> Path:
    return settings.data_dir / "prefect"


def prefect_environment(settings: Settings) -> dict[str, str]:
    """Prefect settings yorisoi runs with unless the environment already says otherwise."""
    return {
        "PREFECT_HOME": str(prefect_home(settings)),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }


def use_prefect_environment(settings: Settings) -> None:
    """Apply `prefect_environment` to this process, before Prefect is imported."""
    for name, value in prefect_environment(settings).items():
        os.environ.setdefault(name, value)
    prefect_home(settings).mkdir(parents=True, exist_ok=True)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


class ServerError(RuntimeError):
    def __init__(self, ja: str, en: str) -> None:
        super().__init__(f"{ja} / {en}")
        self.ja = ja
        self.en = en


class PrefectServer:
    """A `prefect server start` this process started, supervises and stops.

    `database_url` defaults to SQLite in `home`; PostgreSQL needs `postgresql+asyncpg://…`
    and the pg_trgm extension.
    """

    def __init__(
        self,
        home: Path,
        *,
        port: int,
        host: str = "127.0.0.1",
        database_url: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.home = home
        self.host = host
        self.port = port
        self.database_url = database_url or f"sqlite+aiosqlite:///{home / 'prefect.db'}"
        self.extra_env = extra_env or {}
        self.log_path = home / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    def environment(self) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            # The server must not take the settings meant for its clients.
            if name not in {"PREFECT_API_URL", "PREFECT_API_DATABASE_CONNECTION_URL"}
        }
        env.update(
            {
                "PREFECT_HOME": str(self.home),
                "PREFECT_API_DATABASE_CONNECTION_URL": self.database_url,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def start(self, *, timeout: float = 120.0) -> str:
        """Start the server and wait until its API answers; returns the API URL."""
        if port_in_use(self.port, self.host):
            raise ServerError(
                f"ポート {self.port} は使用中です。--port で別のポートを指定するか、"
                "起動済みの Prefect サーバーを PREFECT_API_URL で指定してください。",
                f"Port {self.port} is in use: choose another with --port, or point "
                "PREFECT_API_URL at the Prefect server that is running there.",
            )
        self.home.mkdir(parents=True, exist_ok=True)
        prefect = Path(sys.executable).with_name("prefect")
        command = [str(prefect)] if prefect.exists() else [sys.executable, "-m", "prefect"]
        command += ["server", "start", "--host", self.host, "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in a terminal reaches us; we stop it in order
            )
        self.wait_until_healthy(timeout)
        return self.api_url

    def wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(
                    f"Prefect サーバーが起動しませんでした（ログ: {self.log_path}）。",
                    f"The Prefect server exited with {self.process.returncode}; see {self.log_path}:\n"
                    + self.log_tail(),
                )
            if self.healthy():
                return
            time.sleep(0.5)
        self.stop()
        raise ServerError(
            f"Prefect サーバーが {timeout:.0f} 秒以内に応答しませんでした（ログ: {self.log_path}）。",
            f"The Prefect server did not answer within {timeout:.0f} s; see {self.log_path}.",
        )

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text("utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, *, timeout: float = 20.0) -> None:
        """SIGTERM (uvicorn shuts down cleanly), then SIGKILL if it does not go."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def __enter__(self) -> PrefectServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def plan_approved_trigger() -> Any:
    """Run the monitoring sweep when a case enters 支援・モニタリング (its plan was approved).

    The example of a deployment trigger on yorisoi's events: a plan approved with a first
    monitoring date inside the notice window gets its reminder queued the same day. It matches
    the stage the case moved to (the `yorisoi.stage` resource label), so the many other
    stage changes start nothing. The sweep runs as of the event's moment (`now`), so a relay
    catching up, or a replay, sweeps the day the case changed. deploy/prefect.yaml has the same.
    """
    from prefect.events import DeploymentEventTrigger

    return DeploymentEventTrigger(
        name="monitoring sweep when a plan is approved",
        expect={STAGE_CHANGED},
        match={"prefect.resource.id": "yorisoi.case.*", "yorisoi.stage": "monitoring"},
        parameters={
            "params": {
                "reason": "{{ event.event }} {{ event.resource.id }}",
                "now": "{{ event.occurred.isoformat() }}",
            }
        },
    )


def deployments(settings: Settings) -> list[RunnerDeployment]:
    """Every flow as a served deployment with its schedule."""
    from prefect.schedules import Cron, Interval

    from flows import (
        audit_checkpoint,
        audit_verify,
        consent_review,
        dispatch_notifications,
        half_year_progress,
        monitoring_due,
        plan_review_due,
        relay_events,
        short_stay_ending,
    )

    sweep = settings.sweep
    daily = [Cron(sweep.cron, timezone=TIMEZONE)]
    sweeps = (monitoring_due, plan_review_due, consent_review, short_stay_ending, half_year_progress)
    result = [
        getattr(module, module.__name__.rsplit(".", 1)[1]).to_deployment(
            name=SERVE_DEPLOYMENT,
            schedules=daily,
            triggers=[plan_approved_trigger()] if module is monitoring_due else None,
            tags=["yorisoi", "sweep"],
        )
        for module in sweeps
    ]
    result.append(
        dispatch_notifications.dispatch_notifications.to_deployment(
            name=SERVE_DEPLOYMENT,
            schedules=[Cron(sweep.dispatch_cron, timezone=TIMEZONE)],
            tags=["yorisoi", "notifications"],
        )
    )
    result.append(
        relay_events.relay_events.to_deployment(
            name=SERVE_DEPLOYMENT,
            schedules=[Interval(sweep.relay_interval_seconds, timezone=TIMEZONE)],
            tags=["yorisoi", "events"],
        )
    )
    result.append(
        audit_verify.audit_verify.to_deployment(
            name=SERVE_DEPLOYMENT,
            schedules=[Cron(settings.audit.verify_cron, timezone=TIMEZONE)],
            tags=["yorisoi", "audit"],
        )
    )
    if checkpoints_signed(settings):
        result.append(
            audit_checkpoint.audit_checkpoint.to_deployment(
                name=SERVE_DEPLOYMENT,
                schedules=[Cron(settings.audit.checkpoint_cron, timezone=TIMEZONE)],
                tags=["yorisoi", "audit"],
            )
        )
    return result


def checkpoints_signed(settings: Settings) -> bool:
    """Whether a checkpoint key is configured (an unusable one is an error, raised here)."""
    from yorisoi.service.checkpoints import load_key

    return load_key(settings) is not None


def serve(settings: Settings, *, port: int = 4200, host: str = "127.0.0.1") -> None:
    """Run every flow on its schedule until interrupted (Ctrl-C or SIGTERM)."""
    use_prefect_environment(settings)
    if not checkpoints_signed(settings):
        print(
            "監査チェックポイントは鍵（YORISOI_AUDIT__KEY / YORISOI_AUDIT__KEY_FILE）が未設定のため"
            "作成しません / no audit checkpoints: no key is configured",
            flush=True,
        )
    api_url = os.environ.get("PREFECT_API_URL")
    server: PrefectServer | None = None
    if not api_url:
        server = PrefectServer(prefect_home(settings), port=port, host=host)
        print(f"Prefect サーバーを起動しています / starting a Prefect server: {server.api_url}", flush=True)
        api_url = server.start()
        # Flow runs start in subprocesses: they find the server through the environment.
        os.environ["PREFECT_API_URL"] = api_url
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        from prefect import serve as prefect_serve
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            print(f"Prefect: {api_url.removesuffix('/api')}", flush=True)
            prefect_serve(*deployments(settings), limit=CONCURRENT_RUNS)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if server is not None:
            print("Prefect サーバーを停止します / stopping the Prefect server", flush=True)
            server.stop()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
