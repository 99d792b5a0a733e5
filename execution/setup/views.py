"""Pages of store setup (step 3).

- Agency admins edit the checklist templates under `settings/setup-templates/` (other staff get
  403, brand users 404).
- The engagement's checklist (`engagements/<id>/setup/`): staff create it from a template, add
  items, edit them, change their status and add evidence; brand users read the brand-visible
  items and their evidence, and the brand owner approves or requests changes. An internal item,
  or its evidence, is a 404 for a brand user, as anything of another brand or agency is.

Views are thin: the rules live in `execution.setup.services`, the reads in its selectors.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from agency.permissions import can_approve_for_brand, permission_required, staff_required
from agency.views import form_save, post_only
from engagements.lifecycle import Service
from engagements.selectors import engagement_get_for
from execution.files import file_download_response
from execution.models.setup import BrandDecision, SetupItemStatus
from execution.permissions import can_edit_setup_templates
from execution.setup import selectors, services
from execution.setup.forms import (
    ChecklistCreateForm,
    DecisionForm,
    EvidenceForm,
    FilterForm,
    ItemForm,
    StatusForm,
    TemplateForm,
    TemplateItemForm,
)
from execution.workspace import workspace_is_open


def _errors(form) -> list[str]:
    return [str(message) for field_errors in form.errors.values() for message in field_errors]


def _flash_error(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


# --- templates (agency admins) -----------------------------------------------------------------

template_editor_required = permission_required(can_edit_setup_templates)


def _template_redirect(request, template_id: int):
    return redirect(
        "setup:template_detail", agency_slug=request.agency.slug, setup_template_id=template_id
    )


def _template(request, setup_template_id: int):
    return selectors.setup_template_get_for(agency=request.agency, template_id=setup_template_id)


def _template_item(request, setup_template_item_id: int):
    return selectors.setup_template_item_get_for(
        agency=request.agency, template_item_id=setup_template_item_id
    )


@template_editor_required
def template_list(request):
    """The agency's templates (its two defaults are created on the first visit); POST creates
    a template."""
    services.setup_templates_ensure_defaults(agency=request.agency)
    form = TemplateForm(request.POST or None)
    status = 200
    if request.method == "POST":
        template = form_save(
            form,
            lambda: services.setup_template_create(actor=request.membership, **form.cleaned_data),
        )
        if template is not None:
            messages.success(request, _("Template created."))
            return _template_redirect(request, template.pk)
        status = 400
    return render(
        request,
        "execution/setup/template_list.html",
        {"templates": selectors.setup_template_list(agency=request.agency), "form": form},
        status=status,
    )


def _template_page(request, template, *, form=None, item_form=None, status=200):
    return render(
        request,
        "execution/setup/template_detail.html",
        {
            "template": template,
            "items": selectors.setup_template_items(template=template),
            "form": form
            or TemplateForm(
                initial={
                    "name": template.name,
                    "situation": template.situation,
                    "is_active": template.is_active,
                }
            ),
            "item_form": item_form or TemplateItemForm(),
        },
        status=status,
    )


@template_editor_required
def template_detail(request, setup_template_id: int):
    """A template and its lines; POST renames it, changes its situation or takes it out of use."""
    template = _template(request, setup_template_id)
    if request.method != "POST":
        return _template_page(request, template)
    form = TemplateForm(request.POST)
    saved = form_save(
        form,
        lambda: services.setup_template_update(
            actor=request.membership, template=template, **form.cleaned_data
        ),
    )
    if saved is not None:
        messages.success(request, _("Template saved."))
        return _template_redirect(request, template.pk)
    template.refresh_from_db()
    return _template_page(request, template, form=form, status=400)


@template_editor_required
def template_item_create(request, setup_template_id: int):
    template = _template(request, setup_template_id)
    if refused := post_only(request):
        return refused
    form = TemplateItemForm(request.POST)
    added = form_save(
        form,
        lambda: services.setup_template_item_create(
            actor=request.membership, template=template, fields=form.fields_value()
        ),
    )
    if added is not None:
        messages.success(request, _("Item added to the template."))
        return _template_redirect(request, template.pk)
    return _template_page(request, template, item_form=form, status=400)


@template_editor_required
def template_item_edit(request, setup_template_item_id: int):
    item = _template_item(request, setup_template_item_id)
    status = 200
    if request.method == "POST":
        form = TemplateItemForm(request.POST)
        saved = form_save(
            form,
            lambda: services.setup_template_item_update(
                actor=request.membership, item=item, fields=form.fields_value()
            ),
        )
        if saved is not None:
            messages.success(request, _("Template item saved."))
            return _template_redirect(request, item.template_id)
        status = 400
    else:
        form = TemplateItemForm(
            initial={
                name: getattr(item, name)
                for name in services.TemplateItemFields.__dataclass_fields__
            }
        )
    return render(
        request,
        "execution/setup/template_item_form.html",
        {"item": item, "template": item.template, "form": form},
        status=status,
    )


@template_editor_required
def template_item_delete(request, setup_template_item_id: int):
    item = _template_item(request, setup_template_item_id)
    if refused := post_only(request):
        return refused
    services.setup_template_item_delete(actor=request.membership, item=item)
    messages.success(request, _("“%(title)s” removed from the template.") % {"title": item.title})
    return _template_redirect(request, item.template_id)


@template_editor_required
def template_item_move(request, setup_template_item_id: int):
    item = _template_item(request, setup_template_item_id)
    if refused := post_only(request):
        return refused
    try:
        services.setup_template_item_move(
            actor=request.membership, item=item, direction=request.POST.get("direction", "")
        )
    except ValidationError as error:
        _flash_error(request, error)
    return _template_redirect(request, item.template_id)


# --- the engagement's checklist ----------------------------------------------------------------


def _engagement(request, engagement_id: int):
    return engagement_get_for(membership=request.membership, engagement_id=engagement_id)


def _engagement_and_item(request, engagement_id: int, setup_item_id: int):
    """The engagement and one of its items, as the member may see them (404 alike otherwise)."""
    engagement = _engagement(request, engagement_id)
    item = selectors.setup_item_get_for(
        membership=request.membership, engagement=engagement, item_id=setup_item_id
    )
    return engagement, item


def _evidence(request, engagement_id: int, setup_evidence_id: int):
    """A piece of the engagement's evidence, as the member may see it (404 alike otherwise)."""
    return selectors.setup_evidence_get_for(
        membership=request.membership,
        engagement=_engagement(request, engagement_id),
        evidence_id=setup_evidence_id,
    )


def _checklist_redirect(request, engagement):
    return redirect("setup:checklist", agency_slug=request.agency.slug, engagement_id=engagement.pk)


def _item_redirect(request, item):
    return redirect(
        "setup:item_detail",
        agency_slug=request.agency.slug,
        engagement_id=item.engagement_id,
        setup_item_id=item.pk,
    )


def _writable_reason(engagement) -> str:
    """Why staff cannot write to the checklist now ("" when they can)."""
    if Service.SETUP not in engagement.scope_services:
        return _("Store setup is not in this engagement's scope.")
    if not workspace_is_open(engagement):
        return _(
            "The checklist opens when the proposal is approved and the engagement moves to "
            "store setup or a later step."
        )
    return ""


def _create_form(request, engagement, today, data=None) -> ChecklistCreateForm:
    template = selectors.setup_template_for_situation(
        agency=request.agency, situation=engagement.store.situation
    )
    products = selectors.setup_top_products(engagement=engagement, today=today)
    initial = {
        "template": template.pk if template else None,
        "main_products": "\n".join(f"{item_id} {name}".strip() for item_id, name in products),
        "start_date": today,
        "owner": engagement.account_manager_id,
    }
    return ChecklistCreateForm(data, agency=request.agency, initial=initial)


def _checklist_page(request, engagement, *, create_form=None, status=200):
    membership = request.membership
    today = selectors.setup_today(request.agency)
    owners = selectors.setup_item_owners(engagement=engagement, membership=membership)
    filters = FilterForm(request.GET or None, owners=owners)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    sections = selectors.setup_checklist(
        engagement=engagement,
        membership=membership,
        today=today,
        status=chosen.get("status") or "",
        owner_id=chosen.get("owner"),
        overdue_only=bool(chosen.get("overdue")),
    )
    staff = membership.is_staff_member
    reason = _writable_reason(engagement) if staff else ""
    has_checklist = selectors.setup_checklist_exists(engagement=engagement)
    if staff and not reason and create_form is None:
        services.setup_templates_ensure_defaults(agency=request.agency)
        create_form = _create_form(request, engagement, today)
    return render(
        request,
        "execution/setup/checklist.html",
        {
            "engagement": engagement,
            "sections": sections,
            "progress": selectors.setup_progress(engagement=engagement, membership=membership),
            "filters": filters,
            "filtered": bool(chosen and any(chosen.values())),
            "today": today,
            "can_edit": staff and not reason,
            "closed_reason": reason,
            "has_checklist": has_checklist,
            "can_edit_templates": can_edit_setup_templates(membership),
            # A refused creation shows its form with the reason, even when writes are closed.
            "create_form": create_form if staff else None,
        },
        status=status,
    )


def checklist(request, engagement_id: int):
    """The engagement's setup checklist, grouped by section, filterable by status, owner and
    overdue."""
    engagement = _engagement(request, engagement_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return _checklist_page(request, engagement)


@staff_required
def checklist_create(request, engagement_id: int):
    """Staff create the checklist (or add a template's items to it)."""
    engagement = _engagement(request, engagement_id)
    if request.method != "POST":
        return _checklist_redirect(request, engagement)
    services.setup_templates_ensure_defaults(agency=request.agency)
    form = ChecklistCreateForm(request.POST, agency=request.agency)
    created = form_save(
        form,
        lambda: services.setup_checklist_create(
            actor=request.membership, engagement=engagement, **form.cleaned_data
        ),
    )
    if created is not None:
        messages.success(
            request,
            _("%(count)s items created from “%(template)s”.")
            % {"count": len(created), "template": form.cleaned_data["template"].name},
        )
        return _checklist_redirect(request, engagement)
    return _checklist_page(request, engagement, create_form=form, status=400)


@staff_required
def item_create(request, engagement_id: int):
    """An ad-hoc item on the engagement's checklist."""
    engagement = _engagement(request, engagement_id)
    form = ItemForm(
        request.POST or None,
        agency=request.agency,
        initial={"owner": engagement.account_manager_id, "brand_visible": True},
    )
    status = 200
    if request.method == "POST":
        item = form_save(
            form,
            lambda: services.setup_item_create(
                actor=request.membership, engagement=engagement, fields=form.fields_value()
            ),
        )
        if item is not None:
            messages.success(request, _("Item added."))
            return _item_redirect(request, item)
        status = 400
    return render(
        request,
        "execution/setup/item_form.html",
        {"engagement": engagement, "form": form, "closed_reason": _writable_reason(engagement)},
        status=status,
    )


def _item_page(request, engagement, item, *, status=200, **forms):
    membership = request.membership
    today = selectors.setup_today(request.agency)
    staff = membership.is_staff_member
    can_decide = (
        not staff
        and item.status == SetupItemStatus.BRAND_REVIEW
        and can_approve_for_brand(membership, engagement.store.brand_id)
    )
    reason = _writable_reason(engagement) if staff else ""
    context = {
        "engagement": engagement,
        "item": item,
        "evidence": selectors.setup_evidence_for(item=item),
        "overdue": selectors.item_is_overdue(item, today),
        "document_state": selectors.document_state(item, today),
        "today": today,
        "can_edit": staff and not reason,
        "closed_reason": reason,
        "can_decide": can_decide,
        "waiting_for_brand": item.status == SetupItemStatus.BRAND_REVIEW,
        "decision_changes": BrandDecision.CHANGES_REQUESTED,
    }
    if staff and not reason:
        context.update(
            {
                "form": forms.get("form")
                or ItemForm(initial=ItemForm.initial_for(item), agency=request.agency),
                "status_form": forms.get("status_form")
                or StatusForm(initial={"status": item.status}),
                "evidence_form": forms.get("evidence_form") or EvidenceForm(),
            }
        )
    if can_decide:
        context["decision_form"] = forms.get("decision_form") or DecisionForm()
    # A refused form the page no longer shows (the item moved on meanwhile) still says why.
    context["errors"] = [
        message for name, form in forms.items() if name not in context for message in _errors(form)
    ]
    return render(request, "execution/setup/item_detail.html", context, status=status)


def item_detail(request, engagement_id: int, setup_item_id: int):
    """An item with its evidence. Staff POST saves its fields."""
    engagement, item = _engagement_and_item(request, engagement_id, setup_item_id)
    if request.method != "POST":
        return _item_page(request, engagement, item)
    if not request.membership.is_staff_member:
        return HttpResponseNotAllowed(["GET"])
    form = ItemForm(request.POST, agency=request.agency)
    saved = form_save(
        form,
        lambda: services.setup_item_update(
            actor=request.membership, item=item, fields=form.fields_value()
        ),
    )
    if saved is not None:
        messages.success(request, _("Item saved."))
        return _item_redirect(request, item)
    return _item_page(request, engagement, item, form=form, status=400)


@staff_required
def item_status(request, engagement_id: int, setup_item_id: int):
    engagement, item = _engagement_and_item(request, engagement_id, setup_item_id)
    if refused := post_only(request):
        return refused
    form = StatusForm(request.POST)
    moved = form_save(
        form,
        lambda: services.setup_item_set_status(
            actor=request.membership, item=item, status=form.cleaned_data["status"]
        ),
    )
    if moved is not None:
        messages.success(request, _("Status: %(status)s.") % {"status": moved.get_status_display()})
        return _item_redirect(request, moved)
    return _item_page(request, engagement, item, status_form=form, status=400)


def item_decision(request, engagement_id: int, setup_item_id: int):
    """The brand owner approves the item or requests changes."""
    engagement, item = _engagement_and_item(request, engagement_id, setup_item_id)
    if refused := post_only(request):
        return refused
    if not can_approve_for_brand(request.membership, engagement.store.brand_id):
        raise PermissionDenied
    form = DecisionForm(request.POST)
    decided = form_save(
        form,
        lambda: services.setup_item_brand_decide(
            actor=request.membership, item=item, **form.cleaned_data
        ),
    )
    if decided is not None:
        if decided.brand_decision == BrandDecision.APPROVED:
            messages.success(request, _("Approved. The agency has been told."))
        else:
            messages.success(request, _("Changes requested. The agency has been told."))
        return _item_redirect(request, decided)
    return _item_page(request, engagement, item, decision_form=form, status=400)


@staff_required
def evidence_add(request, engagement_id: int, setup_item_id: int):
    engagement, item = _engagement_and_item(request, engagement_id, setup_item_id)
    if refused := post_only(request):
        return refused
    form = EvidenceForm(request.POST, request.FILES)
    added = form_save(
        form,
        lambda: services.setup_evidence_add(
            actor=request.membership,
            item=item,
            upload=form.cleaned_data["file"],
            url=form.cleaned_data["url"],
            note=form.cleaned_data["note"],
        ),
    )
    if added is not None:
        messages.success(request, _("Evidence added."))
        return _item_redirect(request, item)
    return _item_page(request, engagement, item, evidence_form=form, status=400)


def evidence_download(request, engagement_id: int, setup_evidence_id: int):
    """An evidence file, as an attachment, for whoever may see its item."""
    evidence = _evidence(request, engagement_id, setup_evidence_id)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if not evidence.file:
        raise Http404
    return file_download_response(evidence)


@staff_required
def evidence_delete(request, engagement_id: int, setup_evidence_id: int):
    evidence = _evidence(request, engagement_id, setup_evidence_id)
    if refused := post_only(request):
        return refused
    item = evidence.item
    try:
        services.setup_evidence_delete(actor=request.membership, evidence=evidence)
    except ValidationError as error:
        _flash_error(request, error)
    else:
        messages.success(request, _("Evidence deleted."))
    return _item_redirect(request, item)
