"""Flask CLI commands (`flask --app wsgi <command>`): database set-up, users, demo data, and
the audit chain's verification and anchors."""

from __future__ import annotations

import json
from datetime import date
from functools import wraps
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from pydantic import ValidationError

from crm.auth.actor import SYSTEM
from crm.auth.permissions import ROLES
from crm.compliance import audit
from crm.compliance.anchors import read_exported, stored_anchors
from crm.compliance.crypto import PiiCipher, PiiKeyring
from crm.compliance.pii import PiiVault
from crm.compliance.rotation import reencrypt_all
from crm.compliance.verification import verify_orgs
from crm.demo_world.options import WorldOptions
from crm.errors import DomainError
from crm.extensions import db, runtime
from crm.loans.storage import EncryptedStorage
from crm.migrate import upgrade_to_head
from crm.orgs import service as orgs
from crm.orgs.schemas import CreateUser

# the default demo world: its size is what builds in well under a minute (crm/demo_world)
WORLD = WorldOptions()


def register(app: Flask) -> None:
    for command in (
        init_db,
        create_user,
        seed_demo,
        rotate_pii_key,
        reencrypt_pii,
        recycle_leads,
        escalate_followups,
        apply_retention,
        verify_audit,
        export_audit_anchors,
        anchor_audit,
    ):
        app.cli.add_command(_refusals_in_one_line(command))


def _refusals_in_one_line(command: click.Command) -> click.Command:
    """A refused input or rule prints one line (`Error: ...`, exit 1), not a traceback; and
    what the command records in the audit log names it as the method."""
    callback = command.callback

    @wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            with audit.accessed_via(f"cli {command.name}"):
                return callback(*args, **kwargs)
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}"
                for e in err.errors(include_url=False)
            )
            raise click.ClickException(problems) from None
        except DomainError as err:
            raise click.ClickException(err.message) from None

    command.callback = run
    return command


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create the database or upgrade it to the newest schema."""
    settings = current_app.config["SETTINGS"]
    upgrade_to_head(settings.database_url, settings.pii_keys)
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
@click.option("--days", default=WORLD.days, type=click.IntRange(1), show_default=True)
@click.option(
    "--leads-per-day",
    default=WORLD.leads_per_day,
    type=click.IntRange(1),
    show_default=True,
    help="arriving on a weekday (of late: the business grows), all orgs together",
)
@click.option("--seed", "world_seed", default=WORLD.seed, show_default=True)
@click.option("--rebuild", is_flag=True, help="delete the demo orgs' history and build it anew")
def seed_demo(days: int, leads_per_day: int, world_seed: int, rebuild: bool) -> None:
    """Load the demo orgs, users and products and build their history (crm/demo_world); a world
    already there is left alone unless --rebuild. Prints the logins and what the world holds."""
    from crm.demo import DEMO_PASSWORD
    from crm.demo_world.world import build, describe, weekly

    options = WorldOptions(days=days, leads_per_day=leads_per_day, seed=world_seed)
    users, world = build(
        lambda: db.unit_of_work(SYSTEM),
        runtime.auth.passwords,
        runtime.vault,
        runtime.documents,
        options,
        rebuild=rebuild,
        progress=weekly(lambda line: click.echo(line, err=True)),
    )
    click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for user in users:
        click.echo(f"  {user.username:<16} {user.role:<14} {user.display_name}")
    for line in describe(world):
        click.echo(line)


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
    runtime.documents = EncryptedStorage(runtime.documents.inner, runtime.vault.cipher)
    click.echo(f"new active key {runtime.vault.active_key_id} written to {settings.secrets_file}")
    _reencrypt_all(batch_size=5000)


@click.command("reencrypt-pii")
@with_appcontext
@click.option("--batch-size", default=5000, show_default=True, help="leads per transaction")
def reencrypt_pii(batch_size: int) -> None:
    """Re-encrypt leads, waiting lead sheets, application documents and contracts still sealed
    with an older key, one committed batch at a time."""
    _reencrypt_all(batch_size)


def _reencrypt_all(batch_size: int) -> None:
    counts = reencrypt_all(
        lambda: db.unit_of_work(SYSTEM), runtime.vault, runtime.documents, batch_size
    )
    click.echo(
        f"re-encrypted {counts['leads']} leads, {counts['lead_sheets']} lead sheets, "
        f"{counts['documents']} documents and {counts['contracts']} contracts under key "
        f"{runtime.vault.active_key_id}"
    )
    for kind, file in (("documents", "file"), ("contracts", "PDF")):
        if missing := counts[f"{kind}_missing"]:
            click.echo(f"{missing} {kind} have no {file} in the document storage", err=True)


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
    """De-identify leads idle past retention_days, delete spent reminder rows, week-old
    uploaded sheets and day-old document files no row names (normally daily)."""
    from workers.jobs import retention

    click.echo(_counts(retention.run()))


@click.command("verify-audit")
@with_appcontext
@click.option("--org", "org_id", type=int, default=None, help="check this org only")
@click.option(
    "--anchors",
    "anchor_file",
    type=click.File("r"),
    default=None,
    help="anchors exported earlier (export-audit-anchors) and kept elsewhere",
)
def verify_audit(org_id: int | None, anchor_file) -> None:
    """Check each org's audit chain; names the first altered or missing entry (exit 1)."""
    kept = read_exported(anchor_file) if anchor_file is not None else []
    with db.unit_of_work(SYSTEM, readonly=True) as session:
        reports = verify_orgs(session, [*stored_anchors(session), *kept], org_id)
    for report in reports:
        state = "intact" if report.intact else f"BROKEN: {report.first_break.message}"
        click.echo(
            f"org {report.org_id}: {report.entries} entries, "
            f"{report.anchors_checked} anchors checked, {state}"
        )
    if not all(report.intact for report in reports):
        raise SystemExit(1)


@click.command("export-audit-anchors")
@with_appcontext
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="YYYY-MM-DD")
def export_audit_anchors(since) -> None:
    """Print the daily anchors of the audit chains, one JSON line each, to keep elsewhere."""
    first_day: date | None = since.date() if since is not None else None
    with db.unit_of_work(SYSTEM, readonly=True) as session:
        for anchor in stored_anchors(session, first_day):
            click.echo(anchor.as_json())


@click.command("anchor-audit")
@with_appcontext
def anchor_audit() -> None:
    """Anchor every org's audit chain head for today now (normally hourly, first run kept)."""
    from workers.jobs import audit_anchor

    click.echo(_counts(audit_anchor.run()))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in counts.items())


def _cli_admin():
    """The operator at the console may grant any role; the org scope stays SYSTEM's."""
    from dataclasses import replace

    return replace(SYSTEM, role="admin")
