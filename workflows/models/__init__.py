"""Database models; importing this package registers every table."""
from .jobs import JobRun, JobState
from .units import Unit, UnitKind
from .users import LoginAttempt, Role, RoleGrant, User

__all__ = ["JobRun", "JobState", "LoginAttempt", "Role", "RoleGrant", "Unit", "UnitKind", "User"]
