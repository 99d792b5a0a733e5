"""The proposals API: versions with their content, status and approval evidence; never drafts for
a brand-restricted token, never comments."""

from __future__ import annotations

import pytest

from agency.models import ApiScope, Role
from agency.tenancy import agency_scope
from proposals import services

PROPOSALS = "/api/v1/proposals/"


@pytest.fixture
def owner_a(make_member, demo_agency, brand_a):
    return make_member(
        demo_agency,
        Role.BRAND_OWNER,
        email="li.ming@brand-a.test",
        full_name="李明",
        brands=[brand_a],
    )


def test_a_proposal_comes_with_its_versions_and_the_approval_evidence(
    api, make_token, demo_agency, make_proposal, engagement_a, demo_manager, owner_a
):
    proposal, v1 = make_proposal(engagement_a, demo_manager, send=True)
    with agency_scope(demo_agency):
        services.version_request_changes(actor=owner_a, version=v1, comment="ROI 调低")
        services.proposal_comment_add(
            actor=demo_manager, proposal=proposal, body="INTERNAL-NOTE", internal=True
        )
        v2 = services.proposal_new_version(actor=demo_manager, proposal=proposal)
        v2 = services.version_send(actor=demo_manager, version=v2)
        approval = services.version_approve(
            actor=owner_a, version=v2, signed_name="李明", ip="203.0.113.9", user_agent="UA"
        )
        v3_proposal, _draft = make_proposal(engagement_a, demo_manager, title="续约草稿")
    secret = make_token(demo_agency, scopes=[ApiScope.REPORTS_READ])
    response = api.get(secret, f"{PROPOSALS}{proposal.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert [(v["number"], v["status"]) for v in body["versions"]] == [
        (2, "approved"),
        (1, "changes_requested"),
    ]
    approved = body["versions"][0]
    assert approved["approval"] == {
        "approved_by": "li.ming@brand-a.test",
        "signed_name": "李明",
        "approved_at": approved["approval"]["approved_at"],
        "ip": "203.0.113.9",
        "user_agent": "UA",
        "content_hash": approval.content_hash,
    }
    assert approved["content"]["targets"][0]["value"] == "500000.00"
    assert approved["content_hash"] == approval.content_hash
    assert body["versions"][1]["approval"] is None
    assert "INTERNAL-NOTE" not in response.content.decode()
    # Staff tokens see drafts; a token bound to the brand does not.
    listed = api.get(secret, PROPOSALS).json()["results"]
    assert {row["id"] for row in listed} == {proposal.pk, v3_proposal.pk}
    brand_secret = make_token(demo_agency, scopes=[ApiScope.REPORTS_READ], brand=engagement_a.brand)
    listed = api.get(brand_secret, PROPOSALS).json()["results"]
    assert [row["id"] for row in listed] == [proposal.pk]
    assert api.get(brand_secret, f"{PROPOSALS}{v3_proposal.pk}/").status_code == 404
    filtered = api.get(secret, PROPOSALS, status="approved").json()["results"]
    assert [row["id"] for row in filtered] == [proposal.pk]
    # The engagement now carries the live targets.
    engagement = api.get(make_token(demo_agency), f"/api/v1/engagements/{engagement_a.pk}/").json()
    assert [(t["metric"], t["source_version"]) for t in engagement["targets"]] == [
        ("gmv", v2.pk),
        ("roi", v2.pk),
    ]
