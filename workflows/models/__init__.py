"""Database models; importing this package registers every table."""
from .assessment_ballots import Ballot, BallotItem, BallotMark, BallotMember
from .assessment_campaigns import Campaign
from .assessment_obligations import ObligationReminder, ObligationRuleVersion
from .assessment_scores import ScoreLine, ScoringVersion, UnitScore
from .circulars import Circular, CircularOffice, CircularReceipt, CircularReport, CircularSequence
from .forms import FormVersion, StoredFile, Submission
from .jobs import JobRun, JobState
from .review import (ApiToken, AuditEvent, IdempotencyRecord, Notification, ReturnedVersion, Snapshot, Vote,
                     WorkflowVersion)
from .units import Unit, UnitKind
from .users import LoginAttempt, Role, RoleGrant, User
from .volunteers import ServiceRecord, Volunteer, VolunteerMembership, VolunteerNumberSequence, VolunteerYearTotal

__all__ = ["Ballot", "BallotItem", "BallotMark", "BallotMember", "Campaign", "ObligationReminder", "ObligationRuleVersion", "ScoreLine", "ScoringVersion", "UnitScore", "Circular", "CircularOffice", "CircularReceipt", "CircularReport", "CircularSequence", "ApiToken", "AuditEvent", "IdempotencyRecord", "Notification", "ReturnedVersion", "Snapshot", "Vote", "WorkflowVersion", "FormVersion", "StoredFile", "Submission", "JobRun", "JobState", "LoginAttempt", "Role", "RoleGrant", "Unit", "UnitKind", "User",
           "ServiceRecord", "Volunteer", "VolunteerMembership", "VolunteerNumberSequence", "VolunteerYearTotal"]
