"""Lead pool endpoints: claim, claim-next, release, the org's pools, moving leads between them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm.auth.actor import Actor
from crm.http import ApiBlueprint
from crm.leads.schemas import LeadOut
from crm.pools import service
from crm.pools.schemas import ClaimNext, CreatePool, MoveResult, MoveToPool, PoolOut, Release

bp = ApiBlueprint("pools", __name__, tag="pools")


@bp.endpoint(
    "/leads/<int:lead_id>/claim",
    "POST",
    response=LeadOut,
    permission="leads:claim",
    locks_actor=service.lock_claimer,
)
def claim(session: Session, actor: Actor, lead_id: int, locked: service.Claimer):
    """Claim a public-pool lead; 409 already_owned, 422 private_pool_full / reclaim_cooldown /
    daily_claim_cap."""
    return service.claim(session, actor, lead_id, locked=locked)


@bp.endpoint(
    "/leads/claim-next",
    "POST",
    body=ClaimNext,
    response=LeadOut,
    permission="leads:claim",
    locks_actor=service.begin_claim,
)
def claim_next(session: Session, actor: Actor, body: ClaimNext, locked: service.Claimer):
    """Claim the best waiting lead (highest score, then oldest); 404 pool_empty."""
    return service.claim_next(session, actor, city=body.city, pool_id=body.pool_id, locked=locked)


@bp.endpoint(
    "/leads/<int:lead_id>/release", "POST", body=Release, response=LeadOut, permission="leads:claim"
)
def release(session: Session, actor: Actor, lead_id: int, body: Release):
    """Give a lead back to the public pool (owner or manager); the reclaim cooldown starts."""
    return service.release(session, actor, lead_id, body.reason)


@bp.endpoint(
    "/leads/move-to-pool",
    "POST",
    body=MoveToPool,
    response=MoveResult,
    permission="leads:assign",
)
def move_to_pool(session: Session, actor: Actor, body: MoveToPool):
    """Move unowned leads to a pool (null: the main pool); skipped leads say why."""
    return service.move_to_pool(session, actor, body.lead_ids, body.pool_id)


@bp.endpoint(
    "/pools", "POST", body=CreatePool, response=PoolOut, status=201, permission="settings:manage"
)
def create_pool(session: Session, actor: Actor, body: CreatePool):
    """Add a public pool for a team or a city; 409 duplicate_pool."""
    return service.create_pool(session, actor, body)


@bp.endpoint("/pools", response=list[PoolOut], permission="leads:read")
def list_pools(session: Session, actor: Actor):
    """The pools you may claim from (managers: all of the org's), with unowned lead counts."""
    return service.list_pools(session, actor)
