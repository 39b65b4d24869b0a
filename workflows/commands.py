"""Registering the app's CLI commands: every package adds its commands through ``add_commands``.

Invariant: every command of the app prints one line and exits 1 when the
database has no tables yet, instead of an SQL traceback; wrapping happens
here, once, so no package can forget it.
"""
import functools
import sys

import click
from sqlalchemy.exc import SQLAlchemyError

NO_TABLES = "The database has no tables yet: run `flask db upgrade` first."
UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE


def missing_table(exc):
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == UNDEFINED_TABLE or "no such table" in str(orig)


def _tell_about_missing_tables(callback):
    @functools.wraps(callback)
    def guarded(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except SQLAlchemyError as exc:
            if not missing_table(exc):
                raise
            click.echo(NO_TABLES, err=True)
            sys.exit(1)
    guarded.tells_about_missing_tables = True
    return guarded


def guard(command):
    """Wrap ``command`` (and a group's subcommands) once; commands are module-level, apps are many."""
    for sub in getattr(command, "commands", {}).values():
        guard(sub)
    if command.callback and not getattr(command.callback, "tells_about_missing_tables", False):
        command.callback = _tell_about_missing_tables(command.callback)
    return command


def add_commands(app, *commands):
    for command in commands:
        app.cli.add_command(guard(command))


def echo_problems(path, problems):
    """One line per problem of a definition file, each naming the file (the problem names its key)."""
    for problem in problems:
        click.echo(f"{path}: {problem}")


def check_files(paths, load):
    """The ``check`` command of a kind of definition file: ``load(source)`` parses and checks one,
    returning what has ``key`` and ``version`` or raising DefinitionError. Prints "ok KEY vVERSION" or
    one line per problem; exits 1 when any file has a problem."""
    from forms.source import DefinitionError, read_definition_file
    failed = False
    for path in paths:
        try:
            loaded = load(read_definition_file(path))
        except DefinitionError as exc:
            echo_problems(path, exc.problems)
            failed = True
        else:
            click.echo(f"ok {loaded.key} v{loaded.version}")
    if failed:
        sys.exit(1)
