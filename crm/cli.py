"""Flask CLI commands (`flask --app wsgi <command>`): database set-up, users, demo data."""

from __future__ import annotations

import click
from flask import Flask, current_app

from crm.auth.actor import SYSTEM
from crm.auth.permissions import ROLES
from crm.extensions import db, runtime
from crm.migrate import upgrade_to_head
from crm.orgs import service as orgs
from crm.orgs.schemas import CreateUser


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)
    app.cli.add_command(seed_demo)


@click.command("init-db")
def init_db() -> None:
    """Create the database or upgrade it to the newest schema."""
    upgrade_to_head(current_app.config["SETTINGS"].database_url)
    click.echo("database is at the newest schema")


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--org", "org_name", required=True, help="org name; created when missing")
@click.option("--org-kind", type=click.Choice(["hq", "partner"]), default="hq", show_default=True)
@click.option("--display-name", default=None)
def create_user(
    username: str, password: str, role: str, org_name: str, org_kind: str, display_name: str | None
) -> None:
    """Create a login (and its org when missing)."""
    with db.unit_of_work(SYSTEM) as session:
        org = orgs.find_or_create_org(session, org_name, org_kind)
        user = orgs.create_user(
            session,
            _cli_admin(),
            CreateUser(
                username=username,
                password=password,
                display_name=display_name or username,
                role=role,
                org_id=org.id,
            ),
            runtime.auth.passwords,
        )
        click.echo(f"created user {user.username} ({user.role}) in org {org.name} #{org.id}")


@click.command("seed-demo")
def seed_demo() -> None:
    """Load the demo orgs, teams and users (idempotent) and print the logins."""
    from crm.demo import DEMO_PASSWORD, seed

    with db.unit_of_work(SYSTEM) as session:
        users = seed(session, runtime.auth.passwords)
    click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for user in users:
        click.echo(f"  {user.username:<16} {user.role:<14} {user.display_name}")


def _cli_admin():
    """The operator at the console may grant any role; the org scope stays SYSTEM's."""
    from dataclasses import replace

    return replace(SYSTEM, role="admin")
