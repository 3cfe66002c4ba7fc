"""Imports every area's models so Base.metadata is complete (Alembic, table checks)."""

from crm.auth import models as auth_models
from crm.compliance import models as compliance_models
from crm.db import Base
from crm.leads import models as leads_models
from crm.orgs import models as orgs_models

__all__ = ["Base", "auth_models", "compliance_models", "leads_models", "orgs_models"]
