"""Web settings (env YORISOI_WEB__…), and the key that signs session cookies."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="YORISOI_WEB__", extra="ignore")

    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs session cookies; empty means a random key kept in <data_dir>/web-secret.",
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600, ge=60, le=7 * 24 * 3600, description="A sign-in lasts this long (a working day)."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=256 * 1024 * 1024,
        description="Larger request bodies are refused (413) before they are read whole.",
    )
    secure_cookies: bool = Field(
        default=False, description="Send cookies over HTTPS only; turn on behind a TLS proxy."
    )


def secret_key(web: WebSettings, data_dir: Path) -> str:
    """The configured key, or one made once and kept beside the database (readable by owner only)."""
    if web.secret_key is not None:
        return web.secret_key.get_secret_value()
    path = data_dir / "web-secret"
    if path.exists():
        return path.read_text("utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key
