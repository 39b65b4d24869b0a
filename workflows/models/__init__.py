"""Database models; importing this package registers every table."""
from .forms import FormVersion, StoredFile, Submission
from .jobs import JobRun, JobState
from .units import Unit, UnitKind
from .users import LoginAttempt, Role, RoleGrant, User

__all__ = ["FormVersion", "StoredFile", "Submission", "JobRun", "JobState", "LoginAttempt", "Role", "RoleGrant", "Unit", "UnitKind", "User"]
