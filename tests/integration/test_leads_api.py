"""Creating, reading, listing and editing leads through the API, with personal data masked."""

from __future__ import annotations

import pytest

CONSENT = {"given_at": "2026-11-20T10:00:00+08:00", "method": "web_form", "text_version": "v3"}


def new_lead(**overrides):
    body = {
        "name": "李小龙",
        "phone": "+86 138 0013 8000",
        "source": "百度推广",
        "id_number": "11010519491231002X",
        "city": "北京",
        "amount_wanted": "300000.00",
        "term_months": 36,
        "qualifications": {"provident_fund": True, "house": "mortgaged", "monthly_income": "15000"},
        "consent": CONSENT,
    }
    body.update(overrides)
    return body


def test_created_lead_is_masked_and_located(client, auth):
    response = client.post(
        "/api/v1/leads",
        json=new_lead(phone="13922223333", city=None),
        headers=auth.login("manager"),
    )
    assert response.status_code == 201, response.json
    lead = response.json
    assert lead["phone_masked"] == "139****3333"
    assert lead["name_masked"] == "李**"
    assert lead["id_number_masked"] == "110105********002X"
    assert (lead["province"], lead["city"]) == ("广东", "广州")
    assert lead["carrier"] == "中国移动"
    assert lead["pool"] == "public" and lead["stage"] == "new"
    assert lead["qualifications"]["house"] == "mortgaged"
    assert lead["gender"] == "female" and lead["age"] >= 76
    text = response.get_data(as_text=True)
    assert "13922223333" not in text and "李小龙" not in text and "11010519491231002X" not in text


@pytest.mark.parametrize(
    "phone",
    [
        "+86 138 0013 8000",
        "138-0013-8000",
        "8613800138000",
        "0086 13800138000",
        "１３８００１３８０００",
        "13800138000",
    ],
)
def test_every_phone_format_is_the_same_lead(client, auth, phone):
    headers = auth.login("manager")
    first = client.post("/api/v1/leads", json=new_lead(phone="13800138000"), headers=headers)
    again = client.post("/api/v1/leads", json=new_lead(phone=phone), headers=headers)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "duplicate_lead"
    assert again.json["error"]["details"]["lead_id"] == first.json["id"]


def test_same_phone_in_two_orgs_is_allowed(client, make, auth):
    body = new_lead(phone="13700001111")
    one = client.post("/api/v1/leads", json=body, headers=auth.login("partner_admin"))
    two = client.post("/api/v1/leads", json=body, headers=auth.login("partner_admin"))
    assert one.status_code == two.status_code == 201
    assert one.json["org_id"] != two.json["org_id"]


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("phone", "138abc00138", "invalid_phone"),
        ("phone", "1380013800O", "invalid_phone"),
        ("phone", "12345", "invalid_phone"),
        ("id_number", "110105194913310021", "invalid_id_number"),
        ("id_number", "110105194912310021", "invalid_id_number"),
    ],
)
def test_invalid_phone_and_id_number_are_refused(client, auth, field, value, code):
    response = client.post(
        "/api/v1/leads", json=new_lead(**{field: value}), headers=auth.login("manager")
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == code


def test_consent_is_required(client, auth):
    body = new_lead()
    del body["consent"]
    response = client.post("/api/v1/leads", json=body, headers=auth.login("manager"))
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"][0]["loc"] == "consent"


def test_agent_creates_into_own_private_pool(client, auth):
    response = client.post(
        "/api/v1/leads", json=new_lead(phone="13655556666"), headers=auth.login("agent")
    )
    assert response.json["pool"] == "private"
    assert response.json["owner_id"] is not None


def test_agent_sees_public_and_own_but_not_a_colleagues_leads(client, make, auth):
    org = make.org("hq")
    me, colleague = make.user("agent", org=org), make.user("agent", org=org)
    public = make.lead(org=org)
    mine = make.lead(org=org, owner=me)
    theirs = make.lead(org=org, owner=colleague)
    headers = auth.headers_for(me.username)
    ids = {lead["id"] for lead in client.get("/api/v1/leads", headers=headers).json["items"]}
    assert ids == {public.id, mine.id}
    assert client.get(f"/api/v1/leads/{theirs.id}", headers=headers).status_code == 404
    mine_only = client.get("/api/v1/leads?pool=mine", headers=headers).json["items"]
    assert [lead["id"] for lead in mine_only] == [mine.id]


def test_partner_never_sees_hq_or_other_partner_leads(client, make, auth):
    hq, partner, other = make.org("hq"), make.org("partner"), make.org("partner")
    hq_lead, other_lead = make.lead(org=hq), make.lead(org=other)
    own = make.lead(org=partner)
    headers = auth.login("partner_admin", org=partner)
    ids = {lead["id"] for lead in client.get("/api/v1/leads", headers=headers).json["items"]}
    assert ids == {own.id}
    for lead in (hq_lead, other_lead):
        assert client.get(f"/api/v1/leads/{lead.id}", headers=headers).status_code == 404
        assert (
            client.patch(
                f"/api/v1/leads/{lead.id}", json={"city": "x"}, headers=headers
            ).status_code
            == 404
        )
        assert (
            client.post(
                f"/api/v1/leads/{lead.id}/reveal",
                headers=headers,
                json={"fields": ["phone"], "purpose": "回访客户"},
            ).status_code
            == 404
        )


def test_search_needs_the_full_number_or_id(client, make, auth):
    org = make.org("hq")
    target = make.lead(org=org, phone="13912345678", id_number="11010519491231002X", name="王大锤")
    make.lead(org=org, phone="13912345679")
    headers = auth.login("manager", org=org)

    def found(q):
        return [
            lead["id"]
            for lead in client.get("/api/v1/leads", query_string={"q": q}, headers=headers).json[
                "items"
            ]
        ]

    assert found("139 1234 5678") == [target.id]
    assert found("11010519491231002x") == [target.id]
    assert found("王大锤") == [target.id]
    assert found("1391234") == []
    assert found("139") == []
    assert found("王") == []


def test_filters_and_sort(client, make, auth):
    org = make.org("hq")
    low = make.lead(org=org, source="抖音", city="深圳", score=20)
    high = make.lead(org=org, source="抖音", city="深圳", score=90)
    make.lead(org=org, source="百度", city="深圳", score=95)
    headers = auth.login("manager", org=org)
    items = client.get(
        "/api/v1/leads", query_string={"source": "抖音", "sort": "-score"}, headers=headers
    ).json["items"]
    assert [lead["id"] for lead in items] == [high.id, low.id]
    items = client.get(
        "/api/v1/leads", query_string={"min_score": 50, "source": "抖音"}, headers=headers
    ).json["items"]
    assert [lead["id"] for lead in items] == [high.id]
    bad = client.get("/api/v1/leads?sort=phone", headers=headers)
    assert bad.status_code == 422


def test_owner_edits_lead_and_timeline_records_it(client, make, auth):
    org = make.org("hq")
    agent = make.user("agent", org=org)
    lead = make.lead(org=org, owner=agent)
    headers = auth.headers_for(agent.username)
    response = client.patch(
        f"/api/v1/leads/{lead.id}",
        headers=headers,
        json={"city": "上海", "qualifications": {"car": "owned"}, "phone": "13511112222"},
    )
    assert response.status_code == 200, response.json
    assert response.json["city"] == "上海"
    assert response.json["phone_masked"] == "135****2222"
    timeline = client.get(f"/api/v1/leads/{lead.id}/timeline", headers=headers).json
    assert [e["kind"] for e in timeline["items"]] == ["updated", "created"]
    assert timeline["items"][0]["data"]["fields"] == ["city", "phone", "qualifications"]


def test_agent_cannot_edit_a_public_lead(client, make, auth):
    org = make.org("hq")
    lead = make.lead(org=org)
    response = client.patch(
        f"/api/v1/leads/{lead.id}", json={"city": "上海"}, headers=auth.login("agent", org=org)
    )
    assert response.status_code == 403


def test_edit_to_a_phone_of_another_lead_is_a_duplicate(client, make, auth):
    org = make.org("hq")
    make.lead(org=org, phone="13600000001")
    lead = make.lead(org=org, phone="13600000002")
    response = client.patch(
        f"/api/v1/leads/{lead.id}",
        json={"phone": "13600000001"},
        headers=auth.login("manager", org=org),
    )
    assert response.status_code == 409


def test_hq_sees_which_orgs_share_a_phone_and_partners_cannot(client, make, auth):
    hq, shenzhen, chengdu = make.org("hq"), make.org("partner"), make.org("partner")
    for org in (hq, shenzhen, chengdu):
        make.lead(org=org, phone="13800009999")
    make.lead(org=shenzhen, phone="13800008888")
    make.lead(org=chengdu, phone="13800008888")
    report = client.get("/api/v1/leads/overlap", headers=auth.login("admin", org=hq)).json
    pairs = {(r["org_id"], r["other_org_id"]): r["leads"] for r in report}
    assert pairs[(shenzhen.id, chengdu.id)] == 2
    assert pairs[(hq.id, shenzhen.id)] == pairs[(hq.id, chengdu.id)] == 1
    denied = client.get("/api/v1/leads/overlap", headers=auth.login("partner_admin", org=shenzhen))
    assert denied.status_code == 403
