"""SQLModel tables, sessions and queries. Importing this package registers every table."""

from models import search as _search  # noqa: F401 - the search index is built with the tables
from models.access_log import RecordView
from models.audit import AuditEvent
from models.auth import AuthSession, DirectoryEvent, SignInAttempt
from models.case import Case, CaseNumberCounter, Contact, ContactTopic
from models.closure import Closure
from models.consent import Consent, ConsentAgency
from models.imports import ImportedRow
from models.lifecycle import LifecycleVersion
from models.meeting import Meeting, MeetingAttendee
from models.outbox import OutboxMessage
from models.outreach import OutreachActivity, ProgramEnrolment, ProgramProvider
from models.person import Household, Person
from models.plan import ExternalPlanRef, MonitoringRecord, Plan, PlanGoal, RoleAssignment
from models.staff import Agency, Staff
from models.verification import ChainVerification

__all__ = [
    "Agency",
    "AuditEvent",
    "AuthSession",
    "Case",
    "CaseNumberCounter",
    "ChainVerification",
    "Closure",
    "Consent",
    "ConsentAgency",
    "Contact",
    "DirectoryEvent",
    "ContactTopic",
    "ExternalPlanRef",
    "ImportedRow",
    "Household",
    "LifecycleVersion",
    "Meeting",
    "MeetingAttendee",
    "MonitoringRecord",
    "OutboxMessage",
    "OutreachActivity",
    "Person",
    "Plan",
    "PlanGoal",
    "ProgramEnrolment",
    "ProgramProvider",
    "RecordView",
    "RoleAssignment",
    "SignInAttempt",
    "Staff",
]
