"""``flask seed-demo`` (the demo city) and ``flask seed-scale`` (the notice's scale, for benchmarks and trials)."""
import click


@click.command("seed-demo")
def seed_demo_command():
    """Build (or complete) the demo city with a user for every role."""
    from .city import DEMO_PASSWORD, seed_demo
    city = seed_demo()
    click.echo(f"demo city ready under {city.name}; every demo account's password is {DEMO_PASSWORD!r}")


@click.command("seed-scale")
@click.option("--factor", default=1, show_default=True, type=click.IntRange(1, 100),
              help="Multiple of the notice's scale: 1 is 1,000 units and 12,000 reports; 10 is ten times that.")
@click.option("--year", default=2017, show_default=True, type=click.IntRange(2000, 2100),
              help="The year the activities were held in.")
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed: the same seed gives the same data.")
@click.option("--size", default=1.0, show_default=True, type=click.FloatRange(0.001, 1.0),
              help="Fraction of the scale, for quick trials (0.1: ~100 units, 1,200 reports, 30,000 volunteers).")
@click.option("--volunteers/--no-volunteers", default=True, show_default=True,
              help="Also register 300,000 volunteers (× factor × size) and certify 1,000,000 service records.")
def seed_scale_command(factor, year, seed, size, volunteers):
    """Build the demo city, then top it up to the notice's scale with a year of activity reports and volunteers."""
    from .scale import seed_scale
    counts = seed_scale(factor=factor, year=year, seed=seed, size=size, volunteers=volunteers)
    click.echo(f"{counts['units']} units ({counts['units_added']} added), {counts['users']} accounts "
               f"({counts['users_added']} added), {counts['reports']} activity reports ({counts['reports_added']} "
               f"added, {counts['audit_events_added']} audit events), {counts['volunteers']} volunteers "
               f"({counts['volunteers_added']} added), {counts['records']} service records "
               f"({counts['records_added']} added) in {counts['seconds']} s")
    if counts["states_added"]:
        click.echo("states added: " + ", ".join(f"{state} {n}" for state, n in sorted(
            counts["states_added"].items(), key=lambda item: -item[1])))
