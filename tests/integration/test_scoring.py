"""Lead scoring through the API: scored on create, import, edit and follow-up with a breakdown the
agent can read, and the org re-score job (resumable, each lead counted once per run)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.auth.actor import SYSTEM
from crm.db import utcnow
from crm.extensions import db
from crm.followups.models import Followup
from crm.leads.models import FUNNEL, Lead
from crm.orgs.schemas import OrgSettings
from crm.scoring import runs
from crm.scoring.models import LeadScore, ScoringBatch, ScoringRun
from crm.scoring.refresh import ScoreRefresh
from crm.scoring.service import rescore
from crm.scoring.settings import ScoringSettings
from workers.jobs import score_leads

pytestmark = pytest.mark.integration

CONSENT = {"given_at": "2026-11-20T10:00:00+08:00", "method": "web_form", "text_version": "v3"}


def lead_body(phone: str, **overrides):
    body = {
        "name": "王小明",
        "phone": phone,
        "source": "官网表单",
        "city": "北京",
        "amount_wanted": "100000.00",
        "term_months": 24,
        "qualifications": {"monthly_income": "20000", "provident_fund": True},
        "consent": CONSENT,
    }
    return body | overrides


def create(client, headers, phone, **overrides):
    response = client.post("/api/v1/leads", json=lead_body(phone, **overrides), headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def detail(client, headers, lead_id):
    response = client.get(f"/api/v1/leads/{lead_id}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def import_sheet(client, headers, sheet):
    """Import a CSV sheet (the suite runs the job at once); returns the finished job."""
    response = client.post(
        "/api/v1/leads/import",
        data={"file": (io.BytesIO(sheet.encode()), "leads.csv")},
        headers=headers,
    )
    assert response.status_code == 202, response.json
    return client.get(f"/api/v1/jobs/{response.json['job_id']}", headers=headers).json


def factor(lead, name):
    return next(f for f in lead["score_breakdown"] if f["factor"] == name)


def lead_ids(org_id):
    with db.unit_of_work(SYSTEM) as session:
        return session.scalars(select(Lead.id).where(Lead.org_id == org_id)).all()


def batches_of(session, run_id):
    """A run's committed batches: (first lead id, last lead id, leads scored)."""
    return session.execute(
        select(ScoringBatch.first_lead_id, ScoringBatch.last_lead_id, ScoringBatch.leads)
        .where(ScoringBatch.run_id == run_id)
        .order_by(ScoringBatch.first_lead_id)
    ).all()


def assert_each_lead_scored_once(batches, ids):
    """The batches cover every lead once: none overlaps another, none misses a lead, and each
    counts the leads in its range."""
    ids = sorted(ids)
    assert [i for first, last, _ in batches for i in ids if first <= i <= last] == ids
    assert [n for *_, n in batches] == [
        sum(first <= i <= last for i in ids) for first, last, _ in batches
    ]


@pytest.fixture
def org(make):
    return make.org(cities=["北京"])


@pytest.fixture
def manager(auth, org):
    return auth.login("manager", org=org)


def test_a_created_lead_shows_its_score_factor_by_factor(client, manager):
    created = create(client, manager, "13800001001")
    lead = detail(client, manager, created["id"])

    assert lead["score"] == created["score"] > 0
    assert sum(f["points"] for f in lead["score_breakdown"]) == lead["score"]
    assert factor(lead, "region") == {
        "factor": "region",
        "label": "属地",
        "points": 10,
        "max_points": 10,
        "detail": "号码归属地北京在服务范围",
    }
    assert factor(lead, "qualifications")["detail"] == "公积金"
    listed = client.get("/api/v1/leads", headers=manager).json["items"]
    assert [item["score_breakdown"] for item in listed] == [None]


def test_an_edit_and_a_follow_up_rescore_the_lead(client, make, auth, org, manager):
    lead_id = create(client, manager, "13800001002")["id"]
    before = detail(client, manager, lead_id)

    patched = client.patch(
        f"/api/v1/leads/{lead_id}",
        json={"qualifications": {"monthly_income": "20000", "house": "owned", "car": "owned"}},
        headers=manager,
    )
    assert patched.status_code == 200, patched.json
    edited = detail(client, manager, lead_id)
    assert factor(edited, "qualifications")["detail"] == "房产、车产"
    assert edited["score"] != before["score"]

    followed = client.post(
        f"/api/v1/leads/{lead_id}/followups",
        json={"channel": "call", "content": "有意向"},
        headers=manager,
    )
    assert followed.status_code == 201, followed.json
    engaged = detail(client, manager, lead_id)
    assert factor(engaged, "engagement")["detail"] == "近14天跟进1次，接通0次"
    assert engaged["score"] == edited["score"] + factor(engaged, "engagement")["points"]


def test_the_same_number_in_another_org_lowers_the_score(client, auth, make, org, manager):
    alone = detail(client, manager, create(client, manager, "13800001003")["id"])
    other = auth.login("manager", org=make.org(cities=["北京"]))
    create(client, other, "13800001004")
    shared = detail(client, manager, create(client, manager, "13800001004")["id"])

    assert factor(alone, "duplicates")["points"] == 5
    assert factor(shared, "duplicates") | {"points": 2, "detail": "另有1家机构有此号码"} == factor(
        shared, "duplicates"
    )
    assert shared["score"] < alone["score"]


def test_imported_leads_are_scored_with_a_breakdown(client, manager):
    sheet = (
        "姓名,手机号码,城市,公积金,房产,月收入,贷款金额\n张三,13800001005,北京,有,有,30000,50000\n"
    )
    sheet += "李四,13800001006,上海,无,无,,\n"
    job = import_sheet(client, manager, sheet)
    assert job["result"]["created"] == 2, job

    leads = client.get("/api/v1/leads?sort=-score", headers=manager).json["items"]
    strong, weak = (detail(client, manager, lead["id"]) for lead in leads)
    assert strong["score"] > weak["score"] > 0
    assert sum(f["points"] for f in strong["score_breakdown"]) == strong["score"]
    assert factor(strong, "qualifications")["detail"] == "公积金、房产"
    assert factor(weak, "qualifications") | {"points": 0, "detail": "无已知资质"} == factor(
        weak, "qualifications"
    )


def test_a_rescore_leaves_unopened_imported_leads_a_breakdown_to_work_out_when_opened(
    client, org, manager
):
    sheet = "姓名,手机号码,城市,公积金,月收入,贷款金额\n张三,13800001015,北京,有,30000,50000\n"
    import_sheet(client, manager, sheet)
    (lead_id,) = lead_ids(org.id)

    request = runs.RunRequest(org.id)
    runs.run(lambda: db.unit_of_work(SYSTEM), "i" * 32, request, None, lambda _: None)

    with db.unit_of_work(SYSTEM) as session:
        assert session.get(LeadScore, lead_id) is None  # nobody opened it: nothing written
    lead = detail(client, manager, lead_id)
    assert sum(f["points"] for f in lead["score_breakdown"]) == lead["score"] > 0
    assert factor(lead, "qualifications")["detail"] == "公积金"


def test_an_import_scores_a_number_held_by_another_org_lower(client, auth, make, org, manager):
    create(client, auth.login("manager", org=make.org(cities=["北京"])), "13800001008")
    sheet = "姓名,手机号码,城市\n张三,13800001007,北京\n李四,13800001008,北京\n"
    import_sheet(client, manager, sheet)

    # the list shows the score the import stored, before any lead is opened and re-scored
    listed = client.get("/api/v1/leads?sort=-score", headers=manager).json["items"]
    listed = [lead for lead in listed if lead["org_id"] == org.id]  # HQ sees every org
    alone, shared = (lead["score"] for lead in listed)
    assert [lead["phone_masked"][-4:] for lead in listed] == ["1007", "1008"]
    assert alone - shared == 3  # the duplicates factor: 5 points alone, 2 with one other org
    assert detail(client, manager, listed[1]["id"])["score"] == shared


def test_an_org_rescore_learns_source_conversion_and_marks_every_lead(client, auth, make):
    # a weak prior, so six leads are evidence enough
    settings = OrgSettings(scoring=ScoringSettings(prior_leads=1)).model_dump()
    org = make.org(cities=["北京"], settings=settings)
    manager = auth.login("manager", org=org)
    ids = [create(client, manager, f"1380000{n:04d}", source="转介绍")["id"] for n in range(3)]
    ids += [create(client, manager, f"1380001{n:04d}", source="购买名单")["id"] for n in range(3)]
    before = detail(client, manager, ids[0])
    with db.unit_of_work(SYSTEM) as session:  # the referrals all applied, the bought list none
        for lead in session.scalars(select(Lead).where(Lead.id.in_(ids[:3]))):
            lead.reached_rank = FUNNEL.index("applied")

    response = client.post("/api/v1/scoring/rescore", json={}, headers=manager)
    assert response.status_code == 202, response.json
    job = client.get(f"/api/v1/jobs/{response.json['job_id']}", headers=manager).json

    assert (job["status"], job["progress"], job["result"]["scored"]) == ("finished", 1.0, 6)
    referral, bought = detail(client, manager, ids[0]), detail(client, manager, ids[3])
    assert factor(referral, "source")["points"] > factor(before, "source")["points"]
    assert factor(bought, "source")["points"] < factor(before, "source")["points"]
    assert factor(referral, "source")["detail"].startswith("渠道转介绍：3条中3条转化")
    with db.unit_of_work(SYSTEM) as session:
        assert_each_lead_scored_once(batches_of(session, job["id"]), lead_ids(org.id))


@pytest.mark.parametrize(
    ("role", "body", "status", "code"),
    [
        ("agent", {}, 403, "forbidden"),
        ("manager", {"min_lead_id": 5, "max_lead_id": 2}, 422, "validation_error"),
        ("manager", {"org_id": "one"}, 422, "validation_error"),
        ("partner_admin", {"org_id": 999_999}, 404, "not_found"),
    ],
)
def test_rescore_refusals(client, auth, make, role, body, status, code):
    org = make.org("partner" if role.startswith("partner") else "hq")
    response = client.post("/api/v1/scoring/rescore", json=body, headers=auth.login(role, org=org))
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code


def test_a_run_stopped_mid_way_resumes_and_counts_each_lead_once(make, org):
    leads = [make.lead(org=org, phone=f"1390000{n:04d}") for n in range(25)]
    batches = 0

    def crashing_transaction():
        nonlocal batches
        batches += 1
        if batches == 4:  # the run's opening, then two batches committed, then a crash
            raise RuntimeError("worker killed")
        return db.unit_of_work(SYSTEM)

    request = runs.RunRequest(org.id)
    with pytest.raises(RuntimeError):
        runs.run(crashing_transaction, "r" * 32, request, None, lambda _: None, batch_size=10)
    with db.unit_of_work(SYSTEM) as session:
        assert_each_lead_scored_once(
            batches_of(session, "r" * 32), [lead.id for lead in leads[:20]]
        )

    result = runs.run(
        lambda: db.unit_of_work(SYSTEM), "r" * 32, request, None, lambda _: None, batch_size=10
    )
    assert result == {"run_id": "r" * 32, "scored": 25, "total": 25}
    with db.unit_of_work(SYSTEM) as session:
        assert_each_lead_scored_once(batches_of(session, "r" * 32), [lead.id for lead in leads])
        assert session.get(ScoringRun, "r" * 32).finished_at is not None


def test_the_nightly_rescore_runs_each_org_once_a_day(make):
    orgs = [make.org(cities=["北京"]), make.org("partner", cities=["上海"])]
    ids = {o.id: [make.lead(org=o).id for _ in range(3)] for o in orgs}
    today = utcnow().date()

    assert score_leads.every_org()["orgs"] >= 2
    with db.unit_of_work(SYSTEM) as session:
        first = {o.id: batches_of(session, runs.daily_run_id(o.id, today)) for o in orgs}
    for org_id, batches in first.items():
        assert_each_lead_scored_once(batches, ids[org_id])

    score_leads.every_org()  # triggered again the same day: the same runs, nothing re-scored
    with db.unit_of_work(SYSTEM) as session:
        again = {o.id: batches_of(session, runs.daily_run_id(o.id, today)) for o in orgs}
        for o in orgs:
            assert session.get(ScoringRun, runs.daily_run_id(o.id, today)).finished_at
    assert again == first
    assert runs.daily_run_id(orgs[0].id, today + timedelta(days=1)) != runs.daily_run_id(
        orgs[0].id, today
    )


def test_weights_changed_in_the_org_settings_apply_at_the_next_scoring(client, org, manager):
    lead_id = create(client, manager, "13800001007")["id"]
    changed = client.patch(
        f"/api/v1/orgs/{org.id}/settings",
        json={"scoring": {"weights": {"duplicates": 0, "qualifications": 40}}},
        headers=manager,
    )
    assert changed.status_code == 200, changed.json

    client.patch(f"/api/v1/leads/{lead_id}", json={"purpose": "装修"}, headers=manager)
    lead = detail(client, manager, lead_id)
    assert "duplicates" not in [f["factor"] for f in lead["score_breakdown"]]
    assert factor(lead, "qualifications")["max_points"] == 40
    won = sum(f["points"] for f in lead["score_breakdown"])
    assert lead["score"] == round(100 * won / 110)  # the points won out of the new weights' sum


def test_put_off_rescores_are_done_together_for_each_org(make):
    """The dialer marks its dispositions' leads; one refresh re-scores the marked leads of every
    org, each org with its own settings, and leaves unmarked leads alone."""
    hq, partner = make.org(), make.org("partner")
    leads = [make.lead(org=hq), make.lead(org=hq), make.lead(org=partner)]
    unmarked = make.lead(org=hq)
    with db.unit_of_work(SYSTEM) as session:
        for lead in [*leads, unmarked]:
            session.add(Followup(org_id=lead.org_id, lead_id=lead.id, channel="call", content="."))
    refresh = ScoreRefresh(db, interval=3600)
    for lead in leads:
        refresh.changed(lead.org_id, lead.id)
    refresh.changed(leads[0].org_id, leads[0].id)  # marked twice, re-scored once

    refresh.refresh_marked()
    with db.unit_of_work(SYSTEM) as session:
        stored = dict(session.execute(select(LeadScore.lead_id, LeadScore.breakdown)).all())
    engagement = {  # stored as [[factor, points, max_points, detail], ...]
        lead_id: next(detail for name, _, _, detail in breakdown if name == "engagement")
        for lead_id, breakdown in stored.items()
    }
    assert {lead.id: engagement.get(lead.id) for lead in leads} == {
        lead.id: "近14天跟进1次，接通0次" for lead in leads
    }
    assert engagement.get(unmarked.id) != "近14天跟进1次，接通0次"


def test_a_lead_lost_after_many_talks_scores_no_higher_than_a_fresh_one(make):
    """Recycled to the pool, a lost lead with a fortnight of follow-ups was 8 points above an
    otherwise equal fresh lead, so claim-next handed it back to agents first."""
    org, now = make.org(cities=["北京"]), utcnow()
    lost = make.lead(org, "13800001101", stage="lost", lost_reason="暂无贷款需求")
    fresh = make.lead(org, "13800001102")
    with db.unit_of_work(SYSTEM) as session:
        for days in (5, 3, 2):
            at = now - timedelta(days=days)
            session.add(
                Followup(org_id=org.id, lead_id=lost.id, channel="call", content=".", created_at=at)
            )
        rescore(session, [session.get(Lead, lost.id), session.get(Lead, fresh.id)], now)
    with db.unit_of_work(SYSTEM) as session:
        scores = dict(session.execute(select(Lead.id, Lead.score)).all())
        breakdown = session.get(LeadScore, lost.id).breakdown
    assert scores[lost.id] == scores[fresh.id]
    assert [b for b in breakdown if b[0] == "engagement"] == [
        ["engagement", 0, 10, "已流失，近期跟进3次不加分"]
    ]
