"""The proposal pages as each side uses them: staff edit (htmx rows), send with risks first,
the brand owner decides on a phone-sized page, and the evidence and documents afterwards."""

from __future__ import annotations

import html

import pytest
from django.core import mail

from agency.models import Notification, Role
from agency.tenancy import agency_scope
from engagements.lifecycle import Stage
from engagements.models import Engagement, EngagementTarget, EngagementTeamMember
from proposals import services
from proposals.models import (
    Approval,
    ProposalComment,
    ProposalTarget,
    ProposalVersion,
    VersionStatus,
)


@pytest.fixture
def owner_a(make_member, demo_agency, brand_a):
    return make_member(
        demo_agency,
        Role.BRAND_OWNER,
        email="li.ming@brand-a.test",
        full_name="李明",
        brands=[brand_a],
    )


@pytest.fixture
def sent(make_proposal, engagement_a, demo_manager):
    return make_proposal(engagement_a, demo_manager, send=True)


def html_text(response) -> str:
    return html.unescape(response.content.decode())


def document_part(response) -> str:
    page = response.content.decode()
    return page[page.index('<article class="brand-proposal') : page.index("</article>")]


def url(kind, version):
    suffix = {"version": "", "document": "document/"}.get(kind, f"{kind}/")
    return f"/demo/proposals/versions/{version.pk}/{suffix}"


def test_staff_start_a_proposal_from_the_engagement_page(client_for, demo_manager, engagement_a):
    client = client_for(demo_manager)
    page = client.get(f"/demo/engagements/{engagement_a.pk}/")
    assert b"Start a proposal" in page.content
    response = client.post(f"/demo/engagements/{engagement_a.pk}/proposals/new/")
    assert response.status_code == 302
    with agency_scope(engagement_a.agency_id):
        version = ProposalVersion.objects.get(proposal__engagement=engagement_a)
    assert response["Location"] == f"/demo/proposals/versions/{version.pk}/"
    editor = client.get(response["Location"])
    assert editor.status_code == 200
    for section in ("targets", "milestones", "resources", "responsibilities", "tiers"):
        assert f'id="section-{section}"' in editor.content.decode()
    assert b"Target planner" in editor.content


def test_rows_are_added_and_removed_in_place_with_htmx(
    client_for, demo_manager, make_proposal, engagement_a
):
    _proposal, version = make_proposal(engagement_a, demo_manager)
    client = client_for(demo_manager)
    headers = {"HX-Request": "true", "HX-Target": "section-milestones"}
    response = client.post(
        url("milestones/add", version),
        {"milestones-month": "2", "milestones-title": "聚划算报名", "milestones-description": ""},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.templates[0].name == "proposals/_section.html"
    assert "聚划算报名" in response.content.decode()
    # A target with no metric or no value: the errors come back in the section; nothing added.
    with agency_scope(engagement_a.agency_id):
        targets = ProposalTarget.objects.filter(version=version).count()
    response = client.post(
        url("targets/add", version),
        {"targets-metric": "", "targets-value": "", "targets-by_month": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.content.decode().count("This field is required.") >= 2
    with agency_scope(engagement_a.agency_id):
        assert ProposalTarget.objects.filter(version=version).count() == targets
        milestone = version.milestones.get(title="聚划算报名")
    response = client.post(
        f"/demo/proposals/versions/{version.pk}/milestones/{milestone.pk}/delete/",
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "聚划算报名" not in response.content.decode()


def test_each_target_shows_what_the_plan_implies_and_risks_come_first_on_send(
    client_for, demo_manager, make_proposal, engagement_a
):
    _proposal, version = make_proposal(engagement_a, demo_manager)
    with agency_scope(engagement_a.agency_id):
        services.target_add(
            actor=demo_manager,
            version=version,
            metric="gmv",
            comparison=">=",
            value="5000000",
            period="month",
            by_month=1,
        )
    client = client_for(demo_manager)
    editor = client.get(url("version", version)).content.decode()
    assert "The plan implies" in editor
    assert "Targets at risk" in editor
    page = client.get(url("send", version)).content.decode()
    assert "Check these targets before sending" in page
    assert page.index("Check these targets") < page.index("Send to the brand")
    assert "× the baseline" in page  # the conversion it would need, against the baseline


def test_the_planner_saves_assumptions_and_refuses_bad_ones(
    client_for, demo_manager, make_proposal, engagement_a
):
    _proposal, version = make_proposal(engagement_a, demo_manager)
    client = client_for(demo_manager)
    data = {
        "months": "6",
        "organic_visitors": "20000",
        "organic_growth": "0.05",
        "conversion_rate": "0.03",
        "aov": "180",
        "zhitongche_budget": "20000",
        "zhitongche_cpc": "1.2",
        "zhitongche_conversion_rate": "0.04",
    }
    assert client.post(url("planner", version), data).status_code == 302
    version.refresh_from_db()
    assert version.planner["conversion_rate"] == "0.03"
    assert version.planner["channels"][0]["channel"] == "zhitongche"
    response = client.post(url("planner", version), {**data, "conversion_rate": "3"})
    assert response.status_code == 400
    version.refresh_from_db()
    assert version.planner["conversion_rate"] == "0.03"


def test_editing_a_sent_version_is_refused_on_the_page(client_for, demo_manager, sent):
    _proposal, version = sent
    client = client_for(demo_manager)
    response = client.post(
        url("milestones/add", version), {"milestones-month": "1", "milestones-title": "x"}
    )
    assert response.status_code == 400
    assert "frozen; make a new version" in response.content.decode()
    response = client.post(
        url("edit", version), {"scope_services": ["setup"], "monthly_base_fee": "1"}
    )
    assert response.status_code == 400
    version.refresh_from_db()
    assert str(version.monthly_base_fee) == "30000.00"


def test_the_brand_owner_decides_on_a_page_built_for_a_phone(client_for, owner_a, sent):
    proposal, version = sent
    client = client_for(owner_a)
    assert client.get(f"/demo/proposals/{proposal.pk}/")["Location"] == url("version", version)
    page = client.get(url("version", version))
    html = page.content.decode()
    assert page.templates[0].name == "proposals/version_brand.html"
    assert 'name="viewport"' in html
    assert "Approve" in html and "Request changes" in html and 'name="signed_name"' in html
    assert "GMV ≥ 500,000.00 in month 3" in html
    assert "The plan implies" in html


def test_approving_on_the_page_records_the_evidence_staff_then_see(
    client_for,
    client,
    owner_a,
    brand_a_viewer,
    demo_manager,
    demo_operator,
    sent,
    engagement_a,
    django_capture_on_commit_callbacks,
):
    _proposal, version = sent
    with agency_scope(engagement_a.agency_id):
        EngagementTeamMember.objects.create(engagement=engagement_a, membership=demo_operator)
    client_for(owner_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("approve", version),
            {"signed_name": "李明"},
            REMOTE_ADDR="198.51.100.23",
            headers={"User-Agent": "Mozilla/5.0 (iPhone)"},
        )
    assert response.status_code == 302
    # Decided in the owner's brand-restricted scope, heard by both sides.
    assert sorted(message.to[0] for message in mail.outbox) == [
        "li.ming@brand-a.test",
        "manager@demo.test",
        "operator@demo.test",
        "viewer@brand-a.test",
    ]
    with agency_scope(engagement_a.agency_id):
        approval = Approval.objects.get(version=version)
        assert Engagement.objects.get(pk=engagement_a.pk).stage == Stage.SETUP
    assert (approval.ip, approval.user_agent, approval.signed_name) == (
        "198.51.100.23",
        "Mozilla/5.0 (iPhone)",
        "李明",
    )
    client.force_login(demo_manager.user)
    html = client.get(url("version", version)).content.decode()
    assert "Approval evidence" in html
    assert approval.content_hash in html and "198.51.100.23" in html and "李明" in html
    panel = client.get(f"/demo/engagements/{engagement_a.pk}/").content.decode()
    assert "Live KPI targets" in panel and "GMV ≥ 500,000.00 in month 3" in panel


@pytest.mark.parametrize("who", ["viewer", "staff"])
def test_viewers_and_staff_are_refused_on_the_page_and_nothing_changes(
    client_for, brand_a_viewer, demo_manager, sent, who
):
    _proposal, version = sent
    actor = brand_a_viewer if who == "viewer" else demo_manager
    client = client_for(actor)
    html = client.get(url("version", version)).content.decode()
    assert 'name="signed_name"' not in html
    response = client.post(url("approve", version), {"signed_name": "anyone"})
    assert response.status_code == 400
    expected = "viewers can read and comment" if who == "viewer" else "on the brand's behalf"
    assert expected in html_text(response)
    version.refresh_from_db()
    assert version.status == VersionStatus.SENT
    with agency_scope(version.agency_id):
        assert not Approval.objects.exists()


def test_a_brand_b_user_reaches_nothing_of_brand_a_s_proposal(client_for, brand_b_owner, sent):
    proposal, version = sent
    client = client_for(brand_b_owner)
    for address in (
        f"/demo/proposals/{proposal.pk}/",
        f"/demo/proposals/{proposal.pk}/diff/",
        f"/demo/proposals/{proposal.pk}/comments/",
        url("version", version),
        url("document", version),
    ):
        assert client.get(address).status_code == 404, address
    assert client.post(url("approve", version), {"signed_name": "x"}).status_code == 404
    version.refresh_from_db()
    assert version.status == VersionStatus.SENT


def test_a_brand_user_never_sees_a_draft(
    client_for, brand_a_owner, make_proposal, engagement_a, demo_manager
):
    proposal, version = make_proposal(engagement_a, demo_manager)
    client = client_for(brand_a_owner)
    assert client.get(url("version", version)).status_code == 404
    assert client.get(f"/demo/proposals/{proposal.pk}/").status_code == 404
    html = client.get(f"/demo/engagements/{engagement_a.pk}/").content.decode()
    assert proposal.title not in html


def test_the_document_as_approved_stays_as_approved(
    client_for, client, owner_a, demo_manager, make_proposal, engagement_a
):
    _proposal, version = make_proposal(engagement_a, demo_manager, send=True)
    with agency_scope(engagement_a.agency_id):
        services.version_approve(
            actor=owner_a, version=version, signed_name="李明", ip=None, user_agent=""
        )
    client_for(demo_manager)
    before = document_part(client.get(url("document", version)))
    assert "exactly as approved" in before and "GMV ≥ 500,000.00 in month 3" in before
    # Later: the rows are touched and a renewal proposal with other targets is approved.
    with agency_scope(engagement_a.agency_id):
        ProposalTarget.objects.filter(version=version).update(value=1)
        _later, renewal = make_proposal(engagement_a, demo_manager, title="续约方案")
        ProposalTarget.objects.filter(version=renewal, metric="gmv").update(value=900000)
        renewal = services.version_send(actor=demo_manager, version=renewal)
        services.version_approve(
            actor=owner_a, version=renewal, signed_name="李明", ip=None, user_agent=""
        )
    after = document_part(client.get(url("document", version)))
    assert after == before


def test_the_diff_shows_added_removed_and_changed(client_for, demo_manager, sent):
    proposal, v1 = sent
    with agency_scope(v1.agency_id):
        v2 = services.proposal_new_version(actor=demo_manager, proposal=proposal)
        ProposalTarget.objects.filter(version=v2, metric="roi").delete()
        services.milestone_add(actor=demo_manager, version=v2, month=2, title="618大促")
        services.version_update(
            actor=demo_manager,
            version=v2,
            scope_services=v2.scope_services,
            monthly_base_fee="35000",
        )
    client = client_for(demo_manager)
    html = client.get(f"/demo/proposals/{proposal.pk}/diff/?from=1&to=2").content.decode()
    assert 'id="diff-targets"' in html
    assert "removed</span> Return on ad spend ≥ 3 in month 3" in html
    assert 'id="diff-milestones"' in html and "added</span> Month 2 · 618大促" in html
    assert 'id="diff-fees"' in html and "<del>30000.00\n</del> → <ins>35000.00" in html
    assert 'id="diff-resources"' not in html


def test_comments_are_shared_and_internal_notes_stay_with_staff(
    client_for, client, demo_manager, brand_a_owner, sent
):
    proposal, version = sent
    client_for(demo_manager)
    address = f"/demo/proposals/{proposal.pk}/comments/"
    client.post(
        address, {"body": "毛利只有12%，注意", "internal": "on"}, headers={"HX-Request": "true"}
    )
    client.post(address, {"body": "第二个月安排聚划算"}, headers={"HX-Request": "true"})
    client.force_login(brand_a_owner.user)
    response = client.post(address, {"body": "直播预算能否提高？", "version": version.pk})
    assert response.status_code == 302
    html = client.get(url("version", version)).content.decode()
    assert "第二个月安排聚划算" in html and "直播预算能否提高？" in html
    assert "毛利只有12%" not in html
    # A brand user cannot slip an internal note in.
    client.post(address, {"body": "内部?", "internal": "on"})
    with agency_scope(proposal.agency_id):
        assert not ProposalComment.objects.filter(body="内部?", internal=True).exists()
    client.force_login(demo_manager.user)
    html = client.get(url("version", version)).content.decode()
    assert "毛利只有12%" in html and "直播预算能否提高？" in html


def test_notifications_reach_the_bell_and_the_inbox(
    client_for,
    client,
    owner_a,
    demo_manager,
    make_proposal,
    engagement_a,
    django_capture_on_commit_callbacks,
):
    _proposal, version = make_proposal(engagement_a, demo_manager)
    client_for(demo_manager)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url("send", version)).status_code == 302
    assert [message.to for message in mail.outbox] == [["li.ming@brand-a.test"]]
    client.force_login(owner_a.user)
    page = client.get("/demo/").content.decode()
    assert 'id="unread-count">1<' in page
    inbox = client.get("/demo/notifications/").content.decode()
    assert "Proposal to review" in inbox and url("version", version) in inbox
    client.post("/demo/notifications/read/")
    with agency_scope(engagement_a.agency_id):
        assert not Notification.objects.filter(user=owner_a.user, read_at__isnull=True).exists()
    assert 'id="unread-count"' not in client.get("/demo/").content.decode()
    # Staff hear of the owner's decision.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("request-changes", version), {"comment": "请把ROI目标调到2.5"})
    assert [message.to for message in mail.outbox] == [["manager@demo.test"]]
    with agency_scope(engagement_a.agency_id):
        assert Notification.objects.filter(
            user=demo_manager.user, title__contains="Changes requested"
        ).exists()
        assert not EngagementTarget.objects.exists()


def test_the_planner_starts_from_the_diagnosis_baseline_and_flags_a_tripled_conversion(
    client_for,
    demo_manager,
    make_proposal,
    engagement_a,
    store_a,
    django_capture_on_commit_callbacks,
):
    import datetime

    from execution.metrics.ingestion import ingestion_push

    days = [datetime.date(2025, 12, 1) + datetime.timedelta(days=n) for n in range(31)]
    rows = [
        {
            "date": day.isoformat(),
            "visitors": 10000,
            "paying_buyers": 200,
            "paid_orders": 200,
            "gmv": "30000.00",
        }
        for day in days
    ]
    with agency_scope(store_a.agency_id), django_capture_on_commit_callbacks(execute=True):
        ingestion_push(actor=demo_manager, store=store_a, grain="store_day", rows=rows)
    _proposal, version = make_proposal(engagement_a, demo_manager)
    with agency_scope(engagement_a.agency_id):
        services.target_add(
            actor=demo_manager,
            version=version,
            metric="conversion_rate",
            comparison=">=",
            value="0.06",
            period="month",
            by_month=3,
        )
    page = html_text(client_for(demo_manager).get(url("send", version)))
    assert "Check these targets before sending" in page
    assert "Conversion rate ≥ 6.00% in month 3" in page
    assert "3.0× the baseline 2.00%" in page
    editor = html_text(client_for(demo_manager).get(url("version", version)))
    assert "Prefilled from the diagnosis baseline" in editor
    assert 'name="organic_visitors" value="300000"' in editor
