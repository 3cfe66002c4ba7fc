"""Scheduled notices about leads: follow-ups coming due (to the agent) and stale leads (to team
leads)."""
