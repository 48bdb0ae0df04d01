"""Every error a user can meet, each with a stable code and a Japanese and English message.

YorisoiError
├── NotFound                 unknown case, staff member, agency, meeting …
├── InvalidInput             bad input, refused before anything is written
├── PermissionDenied         the actor's roles do not allow the action
├── TriggerNotAllowed        the lifecycle has no such action from the case's stage
├── GuardFailed              a rule (consent, four-eyes, closure …) does not hold
├── VersionConflict          someone else changed the case first; nothing was written
├── AuditKeyError            the checkpoint key is configured but cannot be used
└── CheckpointRefused        a case went back behind the newest signed checkpoint
"""

from __future__ import annotations

from collections.abc import Sequence

from states import Refusal


class YorisoiError(Exception):
    code = "error"

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(f"{ja} / {en}")
        self.ja = ja
        self.en = en

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "message_ja": self.ja, "message_en": self.en}


class NotFound(YorisoiError):
    code = "not_found"


class InvalidInput(YorisoiError):
    code = "invalid_input"


class PermissionDenied(YorisoiError):
    code = "permission_denied"


class TriggerNotAllowed(YorisoiError):
    code = "trigger_not_allowed"

    def __init__(self, ja: str, en: str, allowed: Sequence[str]) -> None:
        super().__init__(ja, en)
        self.allowed = tuple(allowed)

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "allowed": list(self.allowed)}


class GuardFailed(YorisoiError):
    code = "guard_failed"

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        self.refusals = tuple(refusals)
        super().__init__(" / ".join(r.ja for r in refusals), " / ".join(r.en for r in refusals))

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "guards": [r.guard for r in self.refusals]}


class VersionConflict(YorisoiError):
    code = "version_conflict"


class AuditKeyError(YorisoiError):
    code = "audit_key"


class CheckpointRefused(YorisoiError):
    """No new checkpoint: the newest one cannot be read with the key, or cases went back behind it
    (`problems`: case number, Japanese, English) — signing that state would hide it."""

    code = "checkpoint_refused"

    def __init__(self, ja: str, en: str, problems: Sequence[tuple[str, str, str]] = ()) -> None:
        super().__init__(ja, en)
        self.problems = tuple(problems)

    def as_dict(self) -> dict[str, object]:
        return {
            **super().as_dict(),
            "problems": [{"case": n, "message_ja": ja, "message_en": en} for n, ja, en in self.problems],
        }
