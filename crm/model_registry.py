"""Imports every area's models so Base.metadata is complete (Alembic, table checks)."""

from crm.auth import models as auth_models
from crm.commissions import models as commissions_models
from crm.compliance import models as compliance_models
from crm.db import Base
from crm.exports import models as exports_models
from crm.followups import models as followups_models
from crm.leads import models as leads_models
from crm.loans import models as loans_models
from crm.notifications import models as notifications_models
from crm.orgs import models as orgs_models
from crm.pools import models as pools_models
from crm.reminders import models as reminders_models
from crm.reports import funnel_daily as funnel_daily_models
from crm.reports import snapshot_models as kpi_snapshot_models
from crm.scoring import models as scoring_models
from dialer import models as dialer_models

__all__ = [
    "Base",
    "auth_models",
    "commissions_models",
    "compliance_models",
    "dialer_models",
    "exports_models",
    "followups_models",
    "funnel_daily_models",
    "kpi_snapshot_models",
    "leads_models",
    "loans_models",
    "notifications_models",
    "orgs_models",
    "pools_models",
    "reminders_models",
    "scoring_models",
]
