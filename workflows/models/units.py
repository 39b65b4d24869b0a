"""The organisation tree: city office → district offices → units, communities, teams."""
import enum
from datetime import datetime, timezone

from sqlalchemy import String, and_, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


def utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


class UnitKind(str, enum.Enum):
    OFFICE = "office"
    CIVILIZED_UNIT = "civilized_unit"
    COMMUNITY = "community"
    VOLUNTEER_ORG = "volunteer_org"
    TEAM = "team"


# Byte-wise ordering makes the subtree a contiguous key range on both
# databases, so "everything under X" is one range scan of the path index.
PathType = String(255).with_variant(String(255, collation="C"), "postgresql")


class Unit(db.Model):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(db.ForeignKey("unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # Materialised path of ids, e.g. "/1/5/23/"; the unit itself is the last id.
    path: Mapped[str] = mapped_column(PathType, index=True, default="")
    depth: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped["Unit | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Unit"]] = relationship(back_populates="parent", order_by="Unit.code")

    @property
    def is_office(self):
        return self.kind == UnitKind.OFFICE.value

    @staticmethod
    def subtree_range(path):
        """(low, high) bounds of the paths in the subtree rooted at ``path``.

        '/' sorts right before '0', so every descendant path lies in
        [path, path-without-trailing-slash + '0').
        """
        return path, path[:-1] + "0"

    @classmethod
    def in_subtree(cls, path):
        low, high = cls.subtree_range(path)
        return and_(cls.path >= low, cls.path < high)

    @classmethod
    def in_any_subtree(cls, paths):
        clauses = [cls.in_subtree(p) for p in paths]
        if not clauses:
            return false()
        return db.or_(*clauses)

    def is_within(self, ancestor_path):
        return self.path.startswith(ancestor_path)

    def ancestor_ids(self):
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def __repr__(self):
        return f"<Unit {self.code} {self.name}>"
