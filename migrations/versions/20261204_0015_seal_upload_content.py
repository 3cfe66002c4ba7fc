"""uploaded lead sheets sealed at rest: `uploads.sealed`, and the sheets already stored sealed

A lead sheet waiting for (or refused by) its import kept the whole sheet's names, phones and ID
numbers in plaintext; from now on crm/leads/uploads.py seals it with the personal-data keyring,
bound to the upload's id, and this migration seals the ones already there.

Why a `sealed` flag and not only this migration: migrations run while the release before keeps
serving (docs/deploy.md, "Migrate"), so until the web processes restart, sheets still arrive in
plaintext after this has run, and the new code must tell them apart from sealed ones; a flag
says so outright, where guessing from the bytes could mistake a sheet for a sealed blob. Those
few are blanked once imported, as every sheet is.

The keyring is not something a migration can find on its own (PII_KEYS may come from the
environment or the instance's secrets file, crm/config.py; looking for it could even generate a
new one). `flask --app wsgi init-db`, the way releases migrate, hands the app's keyring over
(crm/migrate.py); run without it over plaintext sheets, this stops and says so rather than leave
them readable.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 08:12:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from crm.compliance.crypto import PiiCipher, PiiKeyring
from crm.leads import uploads as sheets

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

uploads = sa.table(
    "uploads",
    sa.column("id", sa.Integer()),
    sa.column("content", sa.LargeBinary()),
    sa.column("sealed", sa.Boolean()),
)


def upgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sealed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    _rewrite(op.get_bind(), seal=True)


def downgrade() -> None:
    _rewrite(op.get_bind(), seal=False)
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_column("sealed")


def _rewrite(conn: sa.Connection, seal: bool) -> None:
    """Seal (or, going down, open) every sheet still held, one row at a time: a sheet may be
    64 MB. Imported ones hold nothing any more."""
    ids = conn.scalars(
        sa.select(uploads.c.id)
        .where(uploads.c.sealed != seal, sa.func.length(uploads.c.content) > 0)
        .order_by(uploads.c.id)
    ).all()
    if not ids:
        return
    cipher = _cipher(len(ids))
    for upload_id in ids:
        content = conn.scalar(sa.select(uploads.c.content).where(uploads.c.id == upload_id))
        if seal:
            content = sheets.seal(cipher, upload_id, content)
        else:
            content = cipher.unseal(content, sheets.context(upload_id))
        conn.execute(
            sa.update(uploads).where(uploads.c.id == upload_id).values(content=content, sealed=seal)
        )


def _cipher(count: int) -> PiiCipher:
    keys = context.config.attributes.get("pii_keys")
    if not keys:
        raise RuntimeError(
            f"{count} uploaded lead sheet(s) must be sealed or opened with the personal-data "
            "keyring, which this migration is not given: run it through "
            "`flask --app wsgi init-db` (it hands over PII_KEYS)"
        )
    return PiiCipher(PiiKeyring.from_json(keys))
