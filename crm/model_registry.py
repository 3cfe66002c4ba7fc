"""Imports every area's models so Base.metadata is complete (Alembic, table checks)."""

from crm.auth import models as auth_models
from crm.compliance import models as compliance_models
from crm.db import Base
from crm.followups import models as followups_models
from crm.leads import models as leads_models
from crm.notifications import models as notifications_models
from crm.orgs import models as orgs_models
from crm.pools import models as pools_models
from dialer import models as dialer_models

__all__ = [
    "Base",
    "auth_models",
    "compliance_models",
    "dialer_models",
    "followups_models",
    "leads_models",
    "notifications_models",
    "orgs_models",
    "pools_models",
]
