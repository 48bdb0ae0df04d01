"""Build what entry points need from settings: the engine and the lifecycle machine."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from models.db import create_db_engine, migrate
from states import LifecycleMachine
from yorisoi.settings import Settings


def machine(settings: Settings, session: Session) -> LifecycleMachine:
    """The lifecycle in force in the database (the configured file is recorded as its first
    version the first time; afterwards `yorisoi lifecycle apply` changes it)."""
    from yorisoi.service.lifecycles import in_force

    return in_force(session, settings.lifecycle.file)


def engine(settings: Settings, *, create: bool = False) -> Engine:
    """The database engine; `create=True` makes the data directory and migrates the schema."""
    url = settings.database_url()
    if url.startswith("sqlite") and create:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = create_db_engine(url)
    if create:
        migrate(db)
    return db
