"""Flask CLI commands (`flask --app wsgi <command>`): database set-up, users, demo data."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from crm.auth.actor import SYSTEM
from crm.auth.permissions import ROLES
from crm.compliance.crypto import PiiCipher, PiiKeyring
from crm.compliance.pii import PiiVault
from crm.compliance.rotation import reencrypt_batch
from crm.extensions import db, runtime
from crm.migrate import upgrade_to_head
from crm.orgs import service as orgs
from crm.orgs.schemas import CreateUser


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(create_user)
    app.cli.add_command(seed_demo)
    app.cli.add_command(rotate_pii_key)
    app.cli.add_command(reencrypt_pii)
    app.cli.add_command(recycle_leads)
    app.cli.add_command(escalate_followups)
    app.cli.add_command(apply_retention)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database or upgrade it to the newest schema."""
    upgrade_to_head(current_app.config["SETTINGS"].database_url)
    click.echo("database is at the newest schema")


@click.command("create-user")
@with_appcontext
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
@with_appcontext
def seed_demo() -> None:
    """Load the demo orgs, teams, users and leads (idempotent) and print the logins."""
    from crm.demo import DEMO_PASSWORD, seed

    with db.unit_of_work(SYSTEM) as session:
        users = seed(session, runtime.auth.passwords, runtime.vault)
    click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for user in users:
        click.echo(f"  {user.username:<16} {user.role:<14} {user.display_name}")


@click.command("rotate-pii-key")
@with_appcontext
def rotate_pii_key() -> None:
    """Add a new personal-data key and make it active (old keys stay for decryption)."""
    settings = current_app.config["SETTINGS"]
    rotated = PiiKeyring.from_json(settings.pii_keys).rotated_json()
    if settings.secrets_file is None:
        # The keys live in the environment: re-encrypting under a key that exists only on this
        # screen would lose the data if it were not deployed, so the operator deploys it first.
        click.echo("PII_KEYS comes from the environment. Deploy this value to every web and")
        click.echo("worker process, restart them, then run `flask --app wsgi reencrypt-pii`:")
        click.echo(rotated)
        return
    secrets = json.loads(settings.secrets_file.read_text())
    secrets["PII_KEYS"] = rotated
    settings.secrets_file.write_text(json.dumps(secrets))
    runtime.vault = PiiVault(PiiCipher(PiiKeyring.from_json(rotated)))
    click.echo(f"new active key {runtime.vault.active_key_id} written to {settings.secrets_file}")
    _reencrypt_all(batch_size=5000)


@click.command("reencrypt-pii")
@with_appcontext
@click.option("--batch-size", default=5000, show_default=True)
def reencrypt_pii(batch_size: int) -> None:
    """Re-encrypt leads still sealed with an older key, one committed batch at a time."""
    _reencrypt_all(batch_size)


def _reencrypt_all(batch_size: int) -> None:
    total = 0
    while True:
        with db.unit_of_work(SYSTEM) as session:
            moved = reencrypt_batch(session, runtime.vault, batch_size)
        total += moved
        if moved == 0:
            break
    click.echo(f"re-encrypted {total} leads under key {runtime.vault.active_key_id}")


@click.command("recycle")
@with_appcontext
def recycle_leads() -> None:
    """Return leads past their follow-up or stage limits to the pool now (normally hourly)."""
    from workers.jobs import recycle

    click.echo(_counts(recycle.run()))


@click.command("escalate")
@with_appcontext
def escalate_followups() -> None:
    """Alert team leads to missed follow-ups and reassign overdue leads now (every 10 min)."""
    from workers.jobs import escalate

    click.echo(_counts(escalate.run()))


@click.command("retention")
@with_appcontext
def apply_retention() -> None:
    """De-identify leads idle past their org's retention_days now (normally daily)."""
    from workers.jobs import retention

    click.echo(_counts(retention.run()))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in counts.items())


def _cli_admin():
    """The operator at the console may grant any role; the org scope stays SYSTEM's."""
    from dataclasses import replace

    return replace(SYSTEM, role="admin")
