"""Imports every area's models so Base.metadata is complete (Alembic, table checks)."""

from crm.auth import models as auth_models
from crm.db import Base
from crm.orgs import models as orgs_models

__all__ = ["Base", "auth_models", "orgs_models"]
