"""The funnel's transition table: which stage may follow which, lost reasons, furthest stage."""

from __future__ import annotations

import pytest

from crm.auth.actor import Actor
from crm.errors import DomainError
from crm.funnel.stages import RANK, TRANSITIONS, advance_to, change_stage
from crm.leads.models import Lead

ACTOR = Actor(user_id=7, org_id=1, role="agent", team_id=None, permissions=frozenset())
# The product's rule written out by hand (DESIGN.md §2), so an edit to the table shows up here.
ALLOWED = [
    ("new", "contacted"),
    ("new", "lost"),
    ("contacted", "qualified"),
    ("contacted", "lost"),
    ("qualified", "applied"),
    ("qualified", "lost"),
    ("applied", "approved"),
    ("applied", "rejected"),
    ("applied", "lost"),
    ("approved", "disbursed"),
    ("approved", "lost"),
    ("lost", "contacted"),
    # one lender's rejection is not the end: the lead applies with another lender's product
    ("rejected", "applied"),
    ("rejected", "lost"),
]


class Recorder:
    """Stands in for the session: change_stage adds the timeline event to it, and closes the
    scheduled follow-ups of a lead leaving the funnel with one statement."""

    def __init__(self) -> None:
        self.added: list = []
        self.executed: list = []

    def add(self, obj) -> None:
        self.added.append(obj)

    def execute(self, statement) -> None:
        self.executed.append(statement)


def lead_at(stage: str) -> Lead:
    return Lead(id=1, org_id=1, stage=stage, reached_rank=RANK.get(stage, 0))


def move(lead: Lead, target: str, reason: str | None = None) -> Recorder:
    session = Recorder()
    change_stage(session, ACTOR, lead, target, reason)  # type: ignore[arg-type]
    return session


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_every_allowed_transition_moves_the_lead_and_records_it(current, target):
    lead = lead_at(current)
    session = move(lead, target, reason="客户已在别家办理")
    assert lead.stage == target and lead.stage_changed_at is not None
    (event,) = session.added
    assert (event.kind, event.actor_id) == ("stage", ACTOR.user_id)
    assert (event.data["from"], event.data["to"]) == (current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("new", "applied"),
        ("new", "qualified"),
        ("new", "disbursed"),
        ("contacted", "approved"),
        ("qualified", "disbursed"),
        ("applied", "contacted"),
        ("approved", "rejected"),
        ("disbursed", "lost"),
        ("rejected", "contacted"),
        ("lost", "qualified"),
        ("contacted", "contacted"),
    ],
)
def test_jumps_backwards_and_skips_are_refused_with_the_allowed_stages(current, target):
    lead = lead_at(current)
    with pytest.raises(DomainError) as refused:
        move(lead, target, reason="客户已在别家办理")
    assert refused.value.code == "invalid_transition"
    assert refused.value.details == {
        "from": current,
        "to": target,
        "allowed": sorted(TRANSITIONS[current]),
    }
    assert lead.stage == current


def test_no_transition_is_allowed_beyond_the_funnel_rule():
    table = {(src, dst) for src, targets in TRANSITIONS.items() for dst in targets}
    assert table == set(ALLOWED)
    assert TRANSITIONS["disbursed"] == frozenset()


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_losing_a_lead_needs_a_reason(reason):
    lead = lead_at("qualified")
    with pytest.raises(DomainError) as refused:
        move(lead, "lost", reason)
    assert refused.value.code == "reason_required"
    assert lead.stage == "qualified"


def test_a_lost_lead_keeps_the_furthest_stage_it_reached():
    lead = lead_at("approved")
    move(lead, "lost", reason="  利率太高  ")
    assert (lead.stage, lead.lost_reason) == ("lost", "利率太高")
    assert lead.reached_rank == RANK["approved"]
    move(lead, "contacted")
    assert lead.reached_rank == RANK["approved"] and lead.lost_reason is None


def test_moving_forward_raises_the_furthest_stage_reached():
    lead = lead_at("qualified")
    move(lead, "applied")
    assert lead.reached_rank == RANK["applied"]


@pytest.mark.parametrize(
    ("start", "steps"),
    [
        ("new", ["contacted", "qualified", "applied"]),
        ("qualified", ["applied"]),
        ("rejected", ["applied"]),
        ("lost", ["contacted", "qualified", "applied"]),
        ("applied", []),
        ("approved", []),
    ],
)
def test_an_application_advances_the_lead_one_recorded_step_at_a_time(start, steps):
    lead = lead_at(start)
    session = Recorder()
    advance_to(session, ACTOR, lead, "applied")
    assert [event.data["to"] for event in session.added] == steps
    assert lead.stage == (start if not steps else "applied")
