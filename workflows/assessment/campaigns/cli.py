"""``flask campaigns calendar YEAR`` (print the generated nodes) and ``flask campaigns generate YEAR`` (store them)."""
import sys

import click
from flask.cli import AppGroup

from .nodes import YearOutOfRange, calendar_lines

campaigns_cli = AppGroup("campaigns", help="Campaigns (节点): the year's nodes, computed and stored.")


def _year_or_exit(year):
    try:
        calendar_lines(year)
    except YearOutOfRange as exc:
        click.echo(f"error: {exc} (got {year})", err=True)
        sys.exit(2)


@campaigns_cli.command("calendar", with_appcontext=False)
@click.argument("year", type=int)
def calendar_command(year):
    """Print YEAR's nodes by date: ``YYYY-MM-DD KEY NAME WINDOW_START..WINDOW_END``."""
    _year_or_exit(year)
    for line in calendar_lines(year):
        click.echo(line)


@campaigns_cli.command("generate")
@click.argument("year", type=int)
def generate_command(year):
    """Store YEAR's plan: nodes already stored stay as the office edited them; missing ones are added."""
    from .plans import generate
    from ...extensions import db
    _year_or_exit(year)
    added = generate(year)
    db.session.commit()
    click.echo(f"{year}: {len(added)} added" + (" (" + ", ".join(c.key for c in added) + ")" if added else ""))
