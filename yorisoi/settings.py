"""Settings from the environment (prefix YORISOI_, nested with __), built on first use.

YORISOI_DATA_DIR=/srv/yorisoi
YORISOI_DATABASE__URL=postgresql://yorisoi@db/yorisoi
YORISOI_LIFECYCLE__FILE=/etc/yorisoi/lifecycle.yaml
YORISOI_AUDIT__KEY_FILE=/etc/yorisoi/audit.key
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from yorisoi.vocabulary import DEFAULT_TOPICS


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "yorisoi"


class DatabaseSettings(BaseModel):
    url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; empty means a SQLite file yorisoi.db in the data directory.",
    )


class LifecycleSettings(BaseModel):
    file: Path | None = Field(
        default=None, description="A municipality's own lifecycle YAML; empty means the default."
    )


class VocabularySettings(BaseModel):
    topics_file: Path | None = Field(
        default=None,
        description="YAML mapping of 相談内容 codes to Japanese labels; empty means the defaults.",
    )


class CalendarSettings(BaseModel):
    closed_days: list[dt.date] = Field(
        default_factory=list, description="The municipality's own closed days (閉庁日), YYYY-MM-DD."
    )
    opens: dt.time = Field(default=dt.time(8, 30), description="Reminders wait until this time.")
    closes: dt.time = Field(default=dt.time(18, 0), description="No reminders after this time.")


class SweepSettings(BaseModel):
    notice_business_days: int = Field(
        default=3, ge=0, le=30, description="Remind this many business days before a due date."
    )
    escalation_business_days: int = Field(
        default=5, ge=1, le=60, description="Escalate to the supervisor past this many days overdue."
    )
    batch_size: int = Field(default=1000, ge=1, le=100_000, description="Cases per task run.")
    plan_review_days: int = Field(
        default=180, ge=7, le=730, description="A plan is reviewed this many days after its approval."
    )
    short_stay_notice_days: int = Field(
        default=3, ge=0, le=14, description="Remind this many days before a short stay (短期宿泊) ends."
    )
    progress_meetings: list[str] = Field(
        default_factory=lambda: ["09-20", "03-15"],
        description="MM-DD of the half-yearly whole-system meetings (上期/下期); the progress list "
        "goes to the supervisors notice_business_days before each.",
    )
    cron: str = Field(
        default="30 8 * * 1-5",
        pattern=r"^\S+( \S+){4}$",
        description="When `yorisoi serve` runs the sweeps (cron, Asia/Tokyo); closed days are skipped.",
    )
    dispatch_cron: str = Field(
        default="*/5 * * * *",
        pattern=r"^\S+( \S+){4}$",
        description="When `yorisoi serve` drains the outbox (messages still wait for business hours).",
    )
    relay_interval_seconds: int = Field(
        default=60, ge=5, le=3600, description="How often `yorisoi serve` relays case events to Prefect."
    )

    @field_validator("progress_meetings")
    @classmethod
    def _month_days(cls, value: list[str]) -> list[str]:
        for text in value:
            try:
                dt.date.fromisoformat(f"2024-{text}")  # a leap year, so 02-29 is accepted
            except ValueError:
                raise ValueError(f"{text!r}: 会議日は MM-DD で書いてください (e.g. 09-20)") from None
        return value


class NotificationSettings(BaseModel):
    apprise_config: Path | None = Field(
        default=None,
        description="Apprise YAML mapping staff and roles to URLs/tags; empty means the local sink.",
    )
    max_attempts: int = Field(default=5, ge=1, le=50, description="Then a message is marked failed.")
    backoff_seconds: int = Field(
        default=60, ge=1, le=86_400, description="First retry delay; doubles on every attempt."
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="Links in messages point here (the web app)."
    )
    lease_seconds: int = Field(
        default=300,
        ge=30,
        le=86_400,
        description="A worker holds a claimed message this long before another may retry it; "
        "keep it well above the slowest delivery.",
    )
    batch_size: int = Field(default=200, ge=1, le=10_000, description="Messages per dispatch run, at most.")


class ReportSettings(BaseModel):
    targets_file: Path | None = Field(
        default=None,
        description="YAML of targets (目標) per indicator and 年度 for the PDCA table; empty means none.",
    )


class AuthSettings(BaseModel):
    """Sign-in throttling (web, API and `yorisoi login` alike) and CLI sign-ins.

    Failures are counted per login (since its last success or unlock) and per client address
    (since its last unlock), within `window_minutes`. After `free_failures` failures each further
    attempt must wait `first_delay_seconds`, doubling with every failure; at `lock_failures` the
    login (or address) is locked for `lock_minutes` after its last failure, or until a supervisor
    unlocks it (`yorisoi staff unlock`, or the web page ロック解除).
    """

    free_failures: int = Field(default=5, ge=1, le=100, description="Failures per login before delays.")
    lock_failures: int = Field(default=10, ge=2, le=1000, description="Failures per login that lock it.")
    address_free_failures: int = Field(
        default=20, ge=1, le=1000, description="Failures per client address before delays."
    )
    address_lock_failures: int = Field(
        default=50, ge=2, le=10_000, description="Failures per client address that lock it."
    )
    first_delay_seconds: float = Field(
        default=2.0, ge=0.1, le=600, description="The first delay; doubles with every further failure."
    )
    lock_minutes: int = Field(default=15, ge=1, le=24 * 60, description="How long a lock lasts.")
    window_minutes: int = Field(
        default=24 * 60, ge=5, le=30 * 24 * 60, description="Older failures are forgotten."
    )
    cli_token_hours: int = Field(
        default=8, ge=1, le=24 * 30, description="`yorisoi login` lasts this long (a working day)."
    )


class CliSettings(BaseModel):
    single_operator: bool = Field(
        default=False,
        description="One trusted person runs the CLI (their own machine, a demo): `--as LOGIN` / "
        "YORISOI_ACTOR choose the acting staff member without a password. Otherwise commands act "
        "as whoever signed in with `yorisoi login`.",
    )
    config_dir: Path | None = Field(
        default=None,
        description="Where `yorisoi login` keeps its token (mode 0600); empty means "
        "$XDG_CONFIG_HOME/yorisoi (~/.config/yorisoi).",
    )

    def credentials_file(self) -> Path:
        base = self.config_dir
        if base is None:
            base = Path(os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")) / "yorisoi"
        return base / "credentials.json"


class AuditSettings(BaseModel):
    key: SecretStr | None = Field(
        default=None,
        description="Key that signs the audit checkpoints (at least 32 characters; `yorisoi audit keygen` "
        "makes one). Kept outside the database, and away from the web server, which does not need it.",
    )
    key_file: Path | None = Field(
        default=None,
        description="A file holding that key (readable by its owner only, mode 0600), instead of `key`.",
    )
    checkpoint_dir: Path | None = Field(
        default=None,
        description="Where signed checkpoints are written; empty means <data_dir>/audit-checkpoints. "
        "Best on another machine or on write-once storage.",
    )
    checkpoint_cron: str = Field(
        default="0 19 * * *",
        pattern=r"^\S+( \S+){4}$",
        description="When `yorisoi serve` writes a checkpoint (cron, Asia/Tokyo); only with a key.",
    )
    verify_cron: str = Field(
        default="0 2 * * *",
        pattern=r"^\S+( \S+){4}$",
        description="When `yorisoi serve` verifies every audit trail and records the result for the "
        "audit page (cron, Asia/Tokyo).",
    )
    checkpoint_max_age_hours: int = Field(
        default=48,
        ge=1,
        le=24 * 31,
        description="`audit verify` warns when the newest checkpoint is older than this.",
    )
    notify: str | None = Field(
        default=None,
        pattern=r"^(staff|role):[A-Za-z0-9_.@-]{1,150}$",
        description="Apprise recipient (role:… or staff:…) told of every checkpoint written or "
        "refused, so a copy of each lives outside this machine; empty means nobody.",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YORISOI_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Field(
        default_factory=_default_data_dir, description="Where the SQLite database and local files live."
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    lifecycle: LifecycleSettings = Field(default_factory=LifecycleSettings)
    vocabulary: VocabularySettings = Field(default_factory=VocabularySettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    sweep: SweepSettings = Field(default_factory=SweepSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    cli: CliSettings = Field(default_factory=CliSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)

    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{self.data_dir / 'yorisoi.db'}"

    def checkpoint_dir(self) -> Path:
        return self.audit.checkpoint_dir or self.data_dir / "audit-checkpoints"

    def topics(self) -> dict[str, str]:
        return _load_topics(self.vocabulary.topics_file)


@lru_cache(maxsize=8)
def _load_topics(path: Path | None) -> dict[str, str]:
    if path is None:
        return dict(DEFAULT_TOPICS)
    loaded = yaml.safe_load(path.read_text("utf-8"))
    if not isinstance(loaded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
    ):
        raise ValueError(f"{path}: 相談内容の定義は「コード: ラベル」の対応表にしてください")
    return loaded


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
