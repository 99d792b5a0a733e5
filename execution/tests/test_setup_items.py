"""The checklist's items: flags (overdue by the agency's local date, document expiry), filters,
editing with clear errors, evidence (files checked by content and size, links, notes; downloads
as attachments, access-checked), and what brand users may see: brand-visible items of their own
brand only, never an internal item or its evidence."""

from __future__ import annotations

import datetime
import html
import os

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from agency.tenancy import agency_scope
from execution.models.setup import SetupEvidence, SetupItem, SetupItemStatus
from execution.setup import selectors, services
from execution.tests.fixtures_setup import pdf_bytes


def url(name: str, engagement, **kwargs) -> str:
    return reverse(
        f"setup:{name}",
        kwargs={"agency_slug": engagement.agency.slug, "engagement_id": engagement.pk, **kwargs},
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def evidence_files() -> set[str]:
    root = settings.MEDIA_ROOT / "workspace"
    return {str(path) for path in root.rglob("*") if path.is_file()} if root.exists() else set()


@pytest.fixture
def today(setup_engagement):
    return selectors.setup_today(setup_engagement.agency)


def test_overdue_is_judged_by_the_agency_local_date(setup_engagement, make_setup_item):
    agency = setup_engagement.agency
    # 25 hours apart: whatever the time, Kiritimati's date is a day after Pago Pago's.
    agency.time_zone = "Pacific/Pago_Pago"
    agency.save()
    pago_today = selectors.setup_today(agency)
    make_setup_item(setup_engagement, due_date=pago_today)
    staff = setup_engagement.account_manager
    with agency_scope(agency):
        assert (
            selectors.setup_overdue_counts(engagement_ids=[setup_engagement.pk], today=pago_today)
            == {}
        )
        progress = selectors.setup_progress(engagement=setup_engagement, membership=staff)
        assert progress["overdue"] == 0
    agency.time_zone = "Pacific/Kiritimati"
    agency.save()
    setup_engagement.refresh_from_db()  # the engagement's agency, with its new time zone
    with agency_scope(agency):
        progress = selectors.setup_progress(engagement=setup_engagement, membership=staff)
    assert progress["today"] == pago_today + datetime.timedelta(days=1)
    assert progress["overdue"] == 1


def test_overdue_flags_counts_and_filters(
    client_for, setup_engagement, make_setup_item, demo_manager, demo_operator, engagement_b, today
):
    yesterday = today - datetime.timedelta(days=1)
    make_setup_item(setup_engagement, title="资质审核", due_date=yesterday, owner=demo_operator)
    make_setup_item(setup_engagement, title="店铺命名", due_date=today, owner=demo_manager)
    make_setup_item(
        setup_engagement, title="已完成项", due_date=yesterday, status=SetupItemStatus.DONE
    )
    make_setup_item(
        setup_engagement, title="不需要项", due_date=yesterday, status=SetupItemStatus.NOT_NEEDED
    )
    make_setup_item(
        setup_engagement,
        title="内部逾期项",
        due_date=yesterday,
        brand_visible=False,
        status=SetupItemStatus.IN_PROGRESS,
    )
    make_setup_item(engagement_b, title="B 逾期", due_date=yesterday)
    make_setup_item(engagement_b, title="B 逾期 2", due_date=yesterday)
    with agency_scope(setup_engagement.agency_id):
        counts = selectors.setup_overdue_counts(
            engagement_ids=[setup_engagement.pk, engagement_b.pk], today=today
        )
        assert counts == {setup_engagement.pk: 2, engagement_b.pk: 2}
    client = client_for(demo_manager)
    page = client.get(url("checklist", setup_engagement))
    rows = {
        row.item.title: row.overdue for section in page.context["sections"] for row in section.rows
    }
    assert rows == {
        "资质审核": True,
        "店铺命名": False,
        "已完成项": False,
        "不需要项": False,
        "内部逾期项": True,
    }
    assert page.context["progress"]["overdue"] == 2
    filtered = client.get(url("checklist", setup_engagement), {"overdue": "on"})
    titles = [row.item.title for section in filtered.context["sections"] for row in section.rows]
    assert titles == ["资质审核", "内部逾期项"]
    by_owner = client.get(url("checklist", setup_engagement), {"owner": demo_operator.pk})
    assert [r.item.title for s in by_owner.context["sections"] for r in s.rows] == ["资质审核"]
    by_status = client.get(url("checklist", setup_engagement), {"status": "done"})
    assert [r.item.title for s in by_status.context["sections"] for r in s.rows] == ["已完成项"]


def test_overdue_counts_are_one_query(
    setup_engagement, engagement_b, make_setup_item, today, django_assert_num_queries
):
    for engagement in (setup_engagement, engagement_b):
        make_setup_item(engagement, due_date=today - datetime.timedelta(days=3))
    with agency_scope(setup_engagement.agency_id), django_assert_num_queries(1):
        selectors.setup_overdue_counts(
            engagement_ids=[setup_engagement.pk, engagement_b.pk], today=today
        )


def test_document_expiry_state(client_for, setup_engagement, make_setup_item, demo_manager, today):
    make_setup_item(
        setup_engagement,
        title="营业执照",
        document_kind="business_licence",
        expiry_date=today - datetime.timedelta(days=1),
    )
    make_setup_item(
        setup_engagement,
        title="品牌授权书",
        document_kind="brand_authorisation",
        expiry_date=today + datetime.timedelta(days=30),
        reminder_days=30,
    )
    make_setup_item(
        setup_engagement,
        title="质检报告",
        document_kind="quality_report",
        expiry_date=today + datetime.timedelta(days=31),
        reminder_days=30,
    )
    page = client_for(demo_manager).get(url("checklist", setup_engagement))
    states = {r.item.title: r.document_state for s in page.context["sections"] for r in s.rows}
    assert states == {"营业执照": "expired", "品牌授权书": "expiring", "质检报告": ""}
    progress = page.context["progress"]
    assert (progress["expired_documents"], progress["expiring_documents"]) == (1, 1)


def test_editing_an_item_refuses_bad_input_and_writes_nothing(
    client_for, setup_engagement, make_setup_item, demo_manager, rival_manager
):
    item = make_setup_item(setup_engagement, document_kind="business_licence")
    client = client_for(demo_manager)
    data = {
        "section": "qualification",
        "title": "营业执照（新）",
        "document_kind": "business_licence",
        "brand_visible": "on",
        "issue_date": "2026-05-01",
        "expiry_date": "2026-04-30",
        "reminder_days": "30",
    }
    response = client.post(url("item_detail", setup_engagement, setup_item_id=item.pk), data)
    assert response.status_code == 400
    assert response.context["form"].errors["expiry_date"] == [
        "The expiry date 2026-04-30 is before the issue date 2026-05-01."
    ]
    response = client.post(
        url("item_detail", setup_engagement, setup_item_id=item.pk),
        {**data, "expiry_date": "2029-04-30", "owner": rival_manager.pk},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["owner"] == [
        f"Owner {rival_manager.pk} is not an active staff member of this agency."
    ]
    with agency_scope(setup_engagement.agency_id):
        item.refresh_from_db()
        assert (item.title, item.issue_date, item.owner_id) == (
            "Business licence (营业执照)",
            None,
            None,
        )
        # Dates belong to documents; an approval needs a brand-visible item.
        with pytest.raises(ValidationError) as refused:
            services.setup_item_update(
                actor=demo_manager,
                item=item,
                fields=services.ItemFields(
                    section="visual",
                    title="首页",
                    brand_visible=False,
                    needs_brand_approval=True,
                    expiry_date=datetime.date(2027, 1, 1),
                ),
            )
    assert refused.value.message_dict == {
        "needs_brand_approval": ["An item the brand approves must be visible to the brand."],
        "document_kind": [
            "Only a document has issue and expiry dates: choose which document this is."
        ],
    }
    response = client.post(url("item_detail", setup_engagement, setup_item_id=item.pk), {
        **data, "expiry_date": "2029-04-30", "owner": demo_manager.pk
    })  # fmt: skip
    assert response.status_code == 302
    with agency_scope(setup_engagement.agency_id):
        item.refresh_from_db()
    assert (item.title, item.expiry_date, item.owner_id) == (
        "营业执照（新）",
        datetime.date(2029, 4, 30),
        demo_manager.pk,
    )


def test_staff_add_an_ad_hoc_item(client_for, setup_engagement, make_setup_item, demo_operator):
    make_setup_item(setup_engagement, position=4)
    response = client_for(demo_operator).post(
        url("item_create", setup_engagement),
        {
            "section": "visual",
            "title": "双11 大促版首页",
            "due_date": "2026-10-20",
            "brand_visible": "on",
            "needs_brand_approval": "on",
            "owner": demo_operator.pk,
        },
    )
    assert response.status_code == 302
    with agency_scope(setup_engagement.agency_id):
        item = SetupItem.objects.get(title="双11 大促版首页")
    assert (item.position, item.owner_id, item.needs_brand_approval) == (5, demo_operator.pk, True)


def test_evidence_files_are_checked_by_content_and_size(
    client_for, setup_engagement, make_setup_item, demo_operator
):
    item = make_setup_item(setup_engagement)
    client = client_for(demo_operator)
    add = url("evidence_add", setup_engagement, setup_item_id=item.pk)
    before = evidence_files()
    # A Windows program renamed to .pdf.
    program = SimpleUploadedFile("营业执照.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200)
    response = client.post(add, {"file": program, "note": "扫描件"})
    assert response.status_code == 400
    assert response.context["evidence_form"].errors["file"] == [
        "营业执照.pdf is not an accepted kind of file: PDF, PNG, JPEG, GIF, WebP, MP4, Word, "
        "Excel or PowerPoint (checked by its content, not its name)."
    ]
    with override_settings(WORKSPACE_FILE_MAX_MB=1):
        big = SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024 // 2))
        response = client.post(add, {"file": big})
    assert response.status_code == 400
    assert response.context["evidence_form"].errors["file"] == [
        "scan.pdf is 1.5 MB; the limit is 1 MB."
    ]
    response = client.post(add, {"url": "javascript:alert(1)"})
    assert response.status_code == 400
    assert response.context["evidence_form"].errors["url"] == [
        "“javascript:alert(1)” is not a web address (starting with http:// or https://)."
    ]
    response = client.post(add, {})
    assert response.status_code == 400
    assert "Add a file, a link or a note." in text(response)
    with agency_scope(setup_engagement.agency_id):
        assert not SetupEvidence.objects.exists()
    assert evidence_files() == before
    # A real PDF, a link and a note are kept.
    response = client.post(
        add,
        {
            "file": SimpleUploadedFile("营业执照.pdf", pdf_bytes()),
            "url": "https://pan.baidu.com/s/licence",
            "note": "2026 年新版",
        },
    )
    assert response.status_code == 302
    with agency_scope(setup_engagement.agency_id):
        evidence = SetupEvidence.objects.get()
    assert (evidence.filename, evidence.content_type) == ("营业执照.pdf", "application/pdf")
    # Stored under its checksum (the storage may add a suffix to a name already taken).
    assert evidence.file.name.startswith(
        f"workspace/{evidence.agency_id}/setupevidence/{evidence.sha256}"
    )
    assert os.path.exists(evidence.file.path)


def test_evidence_downloads_as_an_attachment_for_those_who_see_its_item(
    client,
    client_for,
    setup_engagement,
    make_setup_item,
    make_setup_evidence,
    demo_operator,
    brand_a_owner,
    brand_a_viewer,
    brand_b_owner,
):
    visible = make_setup_evidence(make_setup_item(setup_engagement), created_by=demo_operator.user)
    internal = make_setup_evidence(
        make_setup_item(setup_engagement, brand_visible=False), created_by=demo_operator.user
    )
    download = url("evidence_download", setup_engagement, setup_evidence_id=visible.pk)
    response = client_for(demo_operator).get(download)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "licence.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert client_for(brand_a_viewer).get(download).status_code == 200
    internal_download = url("evidence_download", setup_engagement, setup_evidence_id=internal.pk)
    assert client_for(brand_a_owner).get(internal_download).status_code == 404
    assert client_for(brand_b_owner).get(download).status_code == 404
    client.logout()
    assert client.get(download).status_code == 302


def test_brand_users_see_only_brand_visible_items(
    client_for,
    setup_engagement,
    make_setup_item,
    make_setup_evidence,
    demo_manager,
    brand_a_owner,
    brand_a_viewer,
    brand_b_owner,
):
    shared = make_setup_item(setup_engagement, title="首页设计")
    internal = make_setup_item(
        setup_engagement, title="子账号权限 INTERNAL-ONLY", brand_visible=False
    )
    make_setup_evidence(internal, note="后台密码已交接 SECRET-HANDOVER")
    make_setup_evidence(shared, note="首页初稿")
    staff_page = text(client_for(demo_manager).get(url("checklist", setup_engagement)))
    assert "INTERNAL-ONLY" in staff_page
    for member in (brand_a_owner, brand_a_viewer):
        client = client_for(member)
        page = client.get(url("checklist", setup_engagement))
        assert page.status_code == 200
        body = text(page)
        assert "首页设计" in body and "INTERNAL-ONLY" not in body
        assert page.context["progress"]["total"] == 1
        detail = client.get(url("item_detail", setup_engagement, setup_item_id=shared.pk))
        assert detail.status_code == 200 and "首页初稿" in text(detail)
        assert "evidence_form" not in detail.context and "form" not in detail.context
        for name in ("item_detail", "item_status", "item_decision", "evidence_add"):
            response = client.post(url(name, setup_engagement, setup_item_id=internal.pk))
            assert response.status_code == 404, name
        response = client.get(url("item_detail", setup_engagement, setup_item_id=internal.pk))
        assert response.status_code == 404
        # Brand users read; they do not edit.
        assert (
            client.post(
                url("item_detail", setup_engagement, setup_item_id=shared.pk), {"title": "x"}
            ).status_code
            == 405
        )
        assert (
            client.post(
                url("item_status", setup_engagement, setup_item_id=shared.pk), {"status": "done"}
            ).status_code
            == 404
        )
    other_brand = client_for(brand_b_owner)
    assert other_brand.get(url("checklist", setup_engagement)).status_code == 404
    assert (
        other_brand.get(url("item_detail", setup_engagement, setup_item_id=shared.pk)).status_code
        == 404
    )


def test_staff_delete_their_own_evidence_only(
    client_for,
    setup_engagement,
    make_setup_item,
    make_setup_evidence,
    demo_operator,
    demo_manager,
    django_capture_on_commit_callbacks,
):
    item = make_setup_item(setup_engagement)
    mine = make_setup_evidence(item, created_by=demo_operator.user)
    theirs = make_setup_evidence(item, note="经理的备注", created_by=demo_manager.user)
    path = mine.file.path
    client = client_for(demo_operator)
    response = client.post(url("evidence_delete", setup_engagement, setup_evidence_id=theirs.pk))
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert "Only the person who added this evidence can delete it." in text(response)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("evidence_delete", setup_engagement, setup_evidence_id=mine.pk))
    assert response.status_code == 302
    with agency_scope(setup_engagement.agency_id):
        assert list(SetupEvidence.objects.values_list("pk", flat=True)) == [theirs.pk]
    assert not os.path.exists(path)  # the file went once the deletion committed
