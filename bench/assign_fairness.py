"""Fairness of round-robin and capacity distribution while agents join and leave a team.

    .venv/bin/python -m bench.assign_fairness [--assignments 10000] [--batch 20] [--db sqlite]

Drives the real service (crm.pools.distribution.assign) on a throw-away database: a team of
eight agents receives leads in batches while agents join and leave; each lead stays in its
owner's private pool for a while (LIFETIME_ROUNDS batches), then is worked off. Per agent it
prints the leads received against a fair share, the share of the batches made while that agent
was active (split evenly among the agents active then): for agents present the whole time the
spread (max − min) relative to their mean, for joiners and leavers received / fair share.

Round-robin gives everyone their pro-rata share to within a lead. Capacity balances the load
(leads owned), so a joiner, arriving empty, first receives a burst up to the team's level and
from then on the same rate as everyone: above pro-rata by about one backlog, never below it.
"""

from __future__ import annotations

import argparse
import itertools
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update

from bench import common
from crm.auth.actor import SYSTEM, Actor
from crm.auth.service import actor_for_user
from crm.db import utcnow
from crm.extensions import db, runtime
from crm.leads.intake import LeadDraft, lead_columns
from crm.leads.models import Lead
from crm.orgs.models import Org, Team, User
from crm.orgs.schemas import OrgSettings
from crm.pools.assign_schemas import AssignRequest
from crm.pools.distribution import assign

TEAM_SIZE = 8
# (when, as a fraction of the run; what; who): joiners arrive, and some people leave for good
CHANGES: tuple[tuple[float, str, str], ...] = (
    (0.20, "join", "joiner-1"),
    (0.35, "leave", "agent-3"),
    (0.50, "join", "joiner-2"),
    (0.50, "join", "joiner-3"),
    (0.65, "leave", "joiner-1"),
    (0.80, "leave", "agent-6"),
    (0.85, "join", "joiner-4"),
)
# batches a lead stays owned before it is worked off: the team carries a backlog, so the
# capacity strategy has real differences in free room to weigh
LIFETIME_ROUNDS = 30
_names = itertools.count(1)


@dataclass
class Share:
    name: str
    user_id: int
    joined: int  # assignments made before this agent arrived
    left: int | None = None
    received: int = 0
    fair: float = 0.0
    owns: int = 0  # leads in the private pool when the run ends

    @property
    def whole_time(self) -> bool:
        return self.joined == 0 and self.left is None


def simulate(
    org_id: int,
    strategy: str,
    assignments: int,
    batch: int,
    lifetime_rounds: int = LIFETIME_ROUNDS,
    now: datetime | None = None,
) -> list[Share]:
    """Run the scenario in a new team of `org_id`; returns each agent's share."""
    clock = now or utcnow()
    team_id, manager = _team_with_manager(org_id)
    shares = {
        f"agent-{i}": _join(org_id, team_id, f"agent-{i}", 0) for i in range(1, TEAM_SIZE + 1)
    }
    changes = deque(sorted((round(at * assignments), what, who) for at, what, who in CHANGES))
    owned: deque[list[int]] = deque()
    done = 0
    while done < assignments:
        while changes and changes[0][0] <= done:
            _, what, who = changes.popleft()
            if what == "join":
                shares[who] = _join(org_id, team_id, who, done)
            else:
                _leave(shares[who], done)
        size = min(batch, assignments - done)
        request = AssignRequest(
            lead_ids=_new_leads(org_id, size, done), strategy=strategy, team_id=team_id
        )
        with db.unit_of_work(manager) as session:
            result = assign(session, manager, request, now=clock)
        by_user = {share.user_id: share for share in shares.values()}
        for row in result.assigned:
            by_user[row.user_id].received += 1
        active = [share for share in shares.values() if share.left is None]
        for share in active:
            share.fair += size / len(active)
        owned.append([row.lead_id for row in result.assigned])
        if len(owned) > lifetime_rounds:
            _work_off(owned.popleft())
        done += size
        clock += timedelta(minutes=1)
    _count_owned(shares.values())
    return list(shares.values())


def summary(shares: list[Share]) -> dict[str, float]:
    """Spread of the whole-time agents (relative to their mean) and the worst part-timer."""
    steady = [share.received for share in shares if share.whole_time]
    mean = sum(steady) / len(steady)
    part = [share.received / share.fair for share in shares if not share.whole_time]
    return {
        "whole_time_mean": mean,
        "whole_time_spread": (max(steady) - min(steady)) / mean,
        "part_time_min_ratio": min(part),
        "part_time_max_ratio": max(part),
    }


def _team_with_manager(org_id: int) -> tuple[int, Actor]:
    with db.unit_of_work(SYSTEM) as session:
        team = Team(org_id=org_id, name=f"fairness-{next(_names)}")
        session.add(team)
        session.flush()
        manager = _user(org_id, None, f"manager-of-{team.id}", "manager")
        session.add(manager)
        session.flush()
        return team.id, actor_for_user(session, manager.id)


def _user(org_id: int, team_id: int | None, name: str, role: str) -> User:
    # a locked password ("!" is never a valid hash): these people never log in
    return User(
        org_id=org_id,
        team_id=team_id,
        username=f"fairness-{next(_names)}",
        display_name=name,
        role=role,
        password_hash="!",
    )


def _join(org_id: int, team_id: int, name: str, at: int) -> Share:
    with db.unit_of_work(SYSTEM) as session:
        user = _user(org_id, team_id, name, "agent")
        session.add(user)
        session.flush()
        return Share(name, user.id, joined=at)


def _leave(share: Share, at: int) -> None:
    share.left = at
    with db.unit_of_work(SYSTEM) as session:
        session.execute(update(User).where(User.id == share.user_id).values(active=False))


def _new_leads(org_id: int, count: int, offset: int) -> list[int]:
    now = utcnow()
    rows = [
        lead_columns(
            runtime.vault, LeadDraft(phone=f"137{n:08d}", source="bench"), org_id, None, now
        )
        for n in range(offset, offset + count)
    ]
    with db.unit_of_work(SYSTEM) as session:
        return list(session.scalars(insert(Lead).returning(Lead.id), rows))


def _work_off(lead_ids: list[int]) -> None:
    with db.unit_of_work(SYSTEM) as session:
        session.execute(update(Lead).where(Lead.id.in_(lead_ids)).values(owner_id=None))


def _count_owned(shares: Iterable[Share]) -> None:
    by_user = {share.user_id: share for share in shares}
    with db.unit_of_work(SYSTEM) as session:
        owned = session.execute(
            select(Lead.owner_id, func.count())
            .where(Lead.owner_id.in_(by_user))
            .group_by(Lead.owner_id)
        )
        for user_id, count in owned:
            by_user[user_id].owns = count


def _table(shares: list[Share], assignments: int) -> str:
    def when(at: int | None) -> str:
        return "end" if at is None else f"{at / assignments:.0%}"

    rows = [
        (
            s.name,
            f"{when(s.joined) if s.joined else 'start'}–{when(s.left)}",
            s.received,
            round(s.fair, 1),
            f"{(s.received - s.fair) / s.fair:+.1%}",
            s.owns,
        )
        for s in shares
    ]
    header = ("agent", "active", "received", "fair share", "deviation", "owns at end")
    return common.table(header, rows)


def _new_org() -> int:
    with db.unit_of_work(SYSTEM) as session:
        org = Org(
            name=f"fairness-{next(_names)}",
            kind="hq",
            cities=[],
            settings=OrgSettings().model_dump(),
        )
        session.add(org)
        session.flush()
        return org.id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--assignments", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=20, help="leads per assign request")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    with common.scratch_database(args.db) as url:
        app = common.make_app(url)
        # the bench measures distribution alone, not the embedded sweeps' side effects
        if scheduler := app.extensions.get("scheduler"):
            scheduler.stop()
        for strategy in ("round_robin", "capacity"):
            shares = simulate(_new_org(), strategy, args.assignments, args.batch)
            figures = summary(shares)
            print(f"\n{strategy}: {args.assignments:,} assignments, batches of {args.batch}")
            print(_table(shares, args.assignments))
            print(
                f"whole-time agents: mean {figures['whole_time_mean']:.1f}, max−min "
                f"{figures['whole_time_spread']:.2%} of the mean; joiners/leavers received "
                f"{figures['part_time_min_ratio']:.2f}–{figures['part_time_max_ratio']:.2f}× "
                "their pro-rata share"
            )


if __name__ == "__main__":
    main()
