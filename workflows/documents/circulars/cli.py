"""``flask circulars``: preview a kind from the current data, and set an office's number prefix."""
import click
from flask.cli import AppGroup
from sqlalchemy import select

from ...assessment.periods import Month
from ...extensions import db
from ...models import Unit
from . import facts as facts_module, rendering
from .composing import default_answers
from .kinds import KINDS, kind_of
from .numbering import set_prefix

circulars_cli = AppGroup("circulars", help="Circulars (通报): preview a kind, set an office's number prefix.")


def _office(code):
    if code:
        office = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
        if office is None:
            raise click.BadParameter(f"no unit with code {code!r}", param_hint="--office")
        return office
    office = db.session.execute(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id)).scalars().first()
    if office is None:
        raise click.ClickException("no units yet: create the city office first (flask demo seed, or the admin pages)")
    return office


@circulars_cli.command("preview")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.option("--period", required=True, help="The month, YYYY-MM.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Where to write the PDF.")
@click.option("--office", "code", default=None, help="The issuing office's unit code (default: the top office).")
def preview(kind, period, out, code):
    """Render KIND from the current database's facts, unnumbered and marked as a draft."""
    try:
        Month.parse(period)
    except ValueError:
        raise click.BadParameter("expected YYYY-MM, e.g. 2026-11", param_hint="--period") from None
    office = _office(code)
    facts = facts_module.gather(office, period)
    answers = default_answers(kind_of(kind), facts)
    pages = rendering.render_pdf(kind, facts, answers, office.name, out, draft=True)
    db.session.rollback()
    click.echo(f"{out}: {pages} pages, {len(facts['units'])} units, {facts['totals']['reports']} reports")


@circulars_cli.command("prefix")
@click.argument("code")
@click.argument("prefix")
def prefix(code, prefix):
    """Set the document-number prefix (发文机关代字) of the office with unit code CODE, e.g. 阜文明办."""
    office = _office(code)
    if not prefix.strip() or len(prefix) > 32 or any(c in prefix for c in "〔〕[]"):
        raise click.BadParameter("a short name such as 阜文明办, without brackets", param_hint="PREFIX")
    set_prefix(office, prefix.strip())
    db.session.commit()
    click.echo(f"{office.name}: {prefix.strip()}〔YYYY〕N号")
