"""Pages of the proposals app: the staff editor (htmx rows), send with the planner's risks first,
versions and their diff, the comment thread, the brand owner's decision page (built for a phone)
and the document exactly as sent or approved, with its evidence."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from agency import permissions as agency_permissions
from agency.security import client_ip
from agency.views import apply_validation_error, post_only
from engagements import selectors as engagement_selectors
from engagements.lifecycle import Service
from execution.metrics.registry import METRICS
from proposals import diff, forms, permissions, selectors, services
from proposals.models import VersionStatus


def _version_redirect(request, version):
    return redirect("proposals:version", agency_slug=request.agency.slug, version_id=version.pk)


def _form_errors(form) -> list[str]:
    """Every message of a form, field errors included, for the page's error box."""
    return [str(message) for messages_ in form.errors.values() for message in messages_]


def _labels() -> dict:
    return {
        "metric_labels": {name: metric.label for name, metric in METRICS.items()},
        "service_labels": dict(Service.choices),
    }


def _section_context(request, version, section: str, form=None) -> dict:
    """One editable section of a draft: its rows and the form to add one."""
    content = version.content_from_rows()
    rows = {
        "targets": version.targets.all(),
        "milestones": version.milestones.all(),
        "resources": version.resources.all(),
        "responsibilities": version.responsibilities.all(),
        "tiers": version.commission_tiers.all(),
    }[section]
    context = {
        "version": version,
        "section": section,
        "rows": rows,
        "form": form or forms.ROW_FORMS[section](prefix=section),
        "editable": True,
        **_labels(),
    }
    if section == "targets":
        rows = list(rows)
        checks = selectors.version_planner(version=version, content=content).checks
        for row, check in zip(rows, checks, strict=False):
            row.check = check  # what the plan implies for this target, shown beside it
        context["rows"] = rows
    return context


def _version_context(request, version, **extra) -> dict:
    membership = request.membership
    proposal = version.proposal
    engagement = proposal.engagement
    content = version.content()
    latest_sent = selectors.version_latest_sent_number(proposal=proposal)
    planner_view = selectors.version_planner(version=version, content=content)
    versions = list(selectors.version_list(membership=membership, proposal=proposal))
    can_decide = (
        version.status == VersionStatus.SENT
        and version.number == latest_sent
        and permissions.can_decide_proposal(membership, engagement)
    )
    context = {
        "proposal": proposal,
        "version": version,
        "engagement": engagement,
        "content": content,
        "versions": versions,
        "proposal_approved": any(item.status == VersionStatus.APPROVED for item in versions),
        "approval": selectors.version_approval(version=version),
        "change_request": selectors.version_change_request(version=version),
        "planner_view": planner_view,
        "target_rows": list(zip(content["targets"], planner_view.checks, strict=False)),
        "comments": selectors.comment_list(membership=membership, proposal=proposal),
        "comment_form": forms.CommentForm(),
        "can_edit": permissions.can_edit_proposal(membership, engagement),
        "can_decide": can_decide,
        "is_latest_sent": version.number == latest_sent,
        "can_write_internal": permissions.can_write_internal_note(membership),
        "approve_form": forms.ApproveForm(),
        "changes_form": forms.RequestChangesForm(),
        **_labels(),
    }
    if version.is_draft and context["can_edit"]:
        context["version_form"] = forms.VersionForm(
            initial={
                "scope_services": version.scope_services,
                "monthly_base_fee": version.monthly_base_fee,
                "kpi_bonus": version.kpi_bonus,
                "terms": version.terms,
                "brand_approves_visuals": version.brand_approves_visuals,
            }
        )
        context["planner_form"] = forms.PlannerForm(
            initial=forms.PlannerForm.initial_from(context["planner_view"].assumptions)
        )
        context["sections"] = [
            _section_context(request, version, section) for section in forms.ROW_FORMS
        ]
    context.update(extra)
    return context


def _render_version(request, version, status=200, **extra):
    context = _version_context(request, version, **extra)
    if request.membership.is_brand_member:
        template = "proposals/version_brand.html"
    elif version.is_draft and context["can_edit"]:
        template = "proposals/version_editor.html"
    else:
        template = "proposals/version_detail.html"
    return render(request, template, context, status=status)


# --- pages ----------------------------------------------------------------------------------


@agency_permissions.staff_required
def proposal_create(request, engagement_id: int):
    engagement = engagement_selectors.engagement_get_for(
        membership=request.membership, engagement_id=engagement_id
    )
    if refused := post_only(request):
        return refused
    form = forms.ProposalCreateForm(request.POST)
    form.is_valid()
    try:
        proposal = services.proposal_create(
            actor=request.membership,
            engagement=engagement,
            title=form.cleaned_data.get("title", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(
            "engagements:detail", agency_slug=request.agency.slug, engagement_id=engagement.pk
        )
    return _version_redirect(request, selectors.version_latest(proposal=proposal))


def proposal_detail(request, proposal_id: int):
    """The proposal's current version: the latest for staff, the latest sent for the brand."""
    proposal = selectors.proposal_get_for(membership=request.membership, proposal_id=proposal_id)
    version = selectors.version_list(membership=request.membership, proposal=proposal).first()
    return _version_redirect(request, version)


def version_detail(request, version_id: int):
    version = selectors.version_get_for(membership=request.membership, version_id=version_id)
    return _render_version(request, version)


def version_document(request, version_id: int):
    """The document exactly as frozen at send (and approved: with the evidence); a draft shows
    as a preview."""
    version = selectors.version_get_for(membership=request.membership, version_id=version_id)
    return render(
        request,
        "proposals/version_document.html",
        {
            "proposal": version.proposal,
            "version": version,
            "engagement": version.proposal.engagement,
            "content": version.content(),
            "approval": selectors.version_approval(version=version),
            **_labels(),
        },
    )


@agency_permissions.staff_required
def version_edit(request, version_id: int):
    version = selectors.version_get_for(membership=request.membership, version_id=version_id)
    if refused := post_only(request):
        return refused
    form = forms.VersionForm(request.POST)
    if form.is_valid():
        try:
            services.version_update(actor=request.membership, version=version, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Saved."))
            return _version_redirect(request, version)
    version.refresh_from_db()
    return _render_version(
        request, version, status=400, version_form=form, errors=_form_errors(form)
    )


@agency_permissions.staff_required
def version_row_add(request, version_id: int, section: str):
    """Add a row to a section of a draft; htmx swaps the section, a plain post reloads."""
    version = selectors.version_get_for(membership=request.membership, version_id=version_id)
    if section not in forms.ROW_FORMS:
        raise Http404
    if refused := post_only(request):
        return refused
    form = forms.ROW_FORMS[section](request.POST, prefix=section)
    adders = {
        "targets": services.target_add,
        "milestones": services.milestone_add,
        "resources": services.resource_add,
        "responsibilities": services.responsibility_add,
        "tiers": services.commission_tier_add,
    }
    added = False
    if form.is_valid():
        try:
            adders[section](actor=request.membership, version=version, **form.cleaned_data)
            added = True
        except ValidationError as error:
            apply_validation_error(form, error)
    if not version.is_draft:
        return _render_version(request, version, status=400, errors=_form_errors(form))
    if request.htmx:
        # htmx swaps only 2xx answers: a refused row comes back as 200 with its errors.
        context = _section_context(request, version, section, None if added else form)
        return render(request, "proposals/_section.html", context)
    if added:
        return _version_redirect(request, version)
    return _render_version(request, version, status=400, errors=_form_errors(form))


@agency_permissions.staff_required
def version_row_delete(request, version_id: int, section: str, row_id: int):
    version = selectors.version_get_for(membership=request.membership, version_id=version_id)
    if section not in forms.ROW_FORMS:
        raise Http404
    if refused := post_only(request):
        return refused
    try:
        services.version_row_delete(
            actor=request.membership, version=version, section=section, row_id=row_id
        )
    except ValidationError as error:
        return _render_version(request, version, status=400, errors=error.messages)
    if request.htmx:
        return render(
            request, "proposals/_section.html", _section_context(request, version, section)
        )
    return _version_redirect(request, version)


@agency_permissions.staff_required
def version_planner(request, version_id: int):
    """GET: the plan the version's assumptions imply (a partial); POST: save the assumptions."""
    version = selectors.version_get_for(membership=request.membership, version_id=version_id)
    if request.method == "POST":
        form = forms.PlannerForm(request.POST)
        if form.is_valid():
            try:
                services.version_set_planner(
                    actor=request.membership, version=version, assumptions=form.assumptions()
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            else:
                messages.success(request, _("Planner assumptions saved."))
                return _version_redirect(request, version)
        return _render_version(request, version, status=400, errors=_form_errors(form))
    return render(
        request,
        "proposals/_planner.html",
        {
            "version": version,
            "planner_view": selectors.version_planner(version=version),
            **_labels(),
        },
    )


@agency_permissions.staff_required
def version_send(request, version_id: int):
    """GET: what is about to be sent, the planner's risks first; POST: send."""
    version = selectors.version_get_for(membership=request.membership, version_id=version_id)
    if request.method == "POST":
        try:
            services.version_send(actor=request.membership, version=version)
        except ValidationError as error:
            return _render_version(request, version, status=400, errors=error.messages)
        messages.success(
            request, _("Version %(number)s was sent to the brand.") % {"number": version.number}
        )
        return _version_redirect(request, version)
    context = _version_context(request, version)
    return render(request, "proposals/version_send.html", context)


def version_approve(request, version_id: int):
    version = selectors.version_get_for(membership=request.membership, version_id=version_id)
    if refused := post_only(request):
        return refused
    form = forms.ApproveForm(request.POST)
    if form.is_valid():
        try:
            services.version_approve(
                actor=request.membership,
                version=version,
                signed_name=form.cleaned_data["signed_name"],
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Thank you: the proposal is approved."))
            return _version_redirect(request, version)
    version.refresh_from_db()
    return _render_version(
        request, version, status=400, approve_form=form, errors=_form_errors(form)
    )


def version_request_changes(request, version_id: int):
    version = selectors.version_get_for(membership=request.membership, version_id=version_id)
    if refused := post_only(request):
        return refused
    form = forms.RequestChangesForm(request.POST)
    if form.is_valid():
        try:
            services.version_request_changes(
                actor=request.membership, version=version, comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, _("Your requested changes were sent to the agency."))
            return _version_redirect(request, version)
    version.refresh_from_db()
    return _render_version(
        request, version, status=400, changes_form=form, errors=_form_errors(form)
    )


@agency_permissions.staff_required
def proposal_new_version(request, proposal_id: int):
    proposal = selectors.proposal_get_for(membership=request.membership, proposal_id=proposal_id)
    if refused := post_only(request):
        return refused
    try:
        draft = services.proposal_new_version(actor=request.membership, proposal=proposal)
    except ValidationError as error:
        latest = selectors.version_latest(proposal=proposal)
        return _render_version(request, latest, status=400, errors=error.messages)
    return _version_redirect(request, draft)


def proposal_diff(request, proposal_id: int):
    """What changed between any two versions the member may see (default: the two latest)."""
    proposal = selectors.proposal_get_for(membership=request.membership, proposal_id=proposal_id)
    versions = list(selectors.version_list(membership=request.membership, proposal=proposal))
    by_number = {version.number: version for version in versions}

    def chosen(name: str, default):
        try:
            return by_number.get(int(request.GET.get(name, "")), default)
        except ValueError:
            return default

    new = chosen("to", versions[0] if versions else None)
    old = chosen("from", versions[1] if len(versions) > 1 else new)
    changes = diff.version_diff(old.content(), new.content()) if old and new else {}
    return render(
        request,
        "proposals/version_diff.html",
        {
            "proposal": proposal,
            "engagement": proposal.engagement,
            "versions": versions,
            "old": old,
            "new": new,
            "changes": changes,
            "unchanged": diff.diff_is_empty(changes) if changes else True,
            **_labels(),
        },
    )


def proposal_comments(request, proposal_id: int):
    """The thread (GET, a partial) and adding to it (POST; htmx swaps the thread)."""
    membership = request.membership
    proposal = selectors.proposal_get_for(membership=membership, proposal_id=proposal_id)
    form = forms.CommentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            version = None
            version_id = request.POST.get("version")
            if version_id and version_id.isdigit():
                version = (
                    selectors.version_list(membership=membership, proposal=proposal)
                    .filter(pk=int(version_id))
                    .first()
                )
            try:
                services.proposal_comment_add(
                    actor=membership,
                    proposal=proposal,
                    body=form.cleaned_data["body"],
                    internal=form.cleaned_data["internal"],
                    version=version,
                )
            except ValidationError as error:
                apply_validation_error(form, error)
            except PermissionDenied:
                raise
            else:
                form = forms.CommentForm()
                if not request.htmx and version is not None:
                    return _version_redirect(request, version)
        if form.errors and not request.htmx:
            status = 400
    return render(
        request,
        "proposals/_comments.html",
        {
            "proposal": proposal,
            "comments": selectors.comment_list(membership=membership, proposal=proposal),
            "comment_form": form,
            "can_write_internal": permissions.can_write_internal_note(membership),
        },
        status=status,
    )
