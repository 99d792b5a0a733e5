"""Writes of the setup area (step 3): the agency's checklist templates, each engagement's checklist
created from one, its items, their evidence, the brand's approval, and expiry reminders.

Every write checks who acts, validates everything before it writes anything (a ValidationError
names the field and the value), and runs in one transaction. Checklist writes go through
`workspace_check_writable`: nothing is written before execution starts or when store setup is
not in the engagement's scope.

Rules of an item's status:
- "Waiting for the brand" is for items the brand approves (and so sees); moving an item there
  starts a new round of approval and notifies the brand's owners.
- Such an item is done only through the brand owner's approval; staff cannot mark it done before
  the brand approved it. Requesting changes (a comment is required) sends it back to "in
  progress". Either decision notifies the item's owner and the account manager.
- Reopening an approved item (done → to do / in progress) clears the approval: what the brand
  approved is no longer what will be delivered.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, replace
from typing import TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agency.models import Agency, Membership
from agency.notifications import notification_send
from agency.permissions import can_approve_for_brand
from engagements.lifecycle import Service
from engagements.models import Engagement, EngagementStatus
from execution.files import file_store
from execution.models.setup import (
    BrandDecision,
    DocumentKind,
    SetupEvidence,
    SetupItem,
    SetupItemStatus,
    SetupSection,
    SetupTemplate,
    SetupTemplateItem,
)
from execution.permissions import can_edit_setup_templates, can_edit_workspace
from execution.setup import selectors
from execution.setup.defaults import DEFAULT_TEMPLATES
from execution.workspace import workspace_check_writable

MAX_DUE_DAYS = 730
MAX_MAIN_PRODUCTS = 50
MAX_NOTE_LENGTH = 5000
TITLE_LENGTH = 200
ITEM_ID_LENGTH = 40
PRODUCT_NAME_LENGTH = 200
# "6543210987 保湿精华水", also with a tab, a comma, a colon or a bar between id and name.
MAIN_PRODUCT_LINE = re.compile(r"^([0-9]+)(?:[\s,，;；:：|、]+(.*))?$")
# A template line's fields or a checklist item's (`_cleaned_line` returns the kind it is given).
_LineFields = TypeVar("_LineFields", "TemplateItemFields", "ItemFields")


def _require_staff(actor: Membership) -> None:
    if not can_edit_workspace(actor):
        raise PermissionDenied


def _require_template_editor(actor: Membership) -> None:
    if not can_edit_setup_templates(actor):
        raise PermissionDenied


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _clean_text(value: str | None) -> str:
    return (value or "").strip()


def _check_title(errors: dict, title: str) -> None:
    if not title:
        _add(errors, "title", _("Enter a title."))
    elif len(title) > TITLE_LENGTH:
        _add(
            errors,
            "title",
            _("The title has %(length)s characters; at most %(limit)s are allowed.")
            % {"length": len(title), "limit": TITLE_LENGTH},
        )


def _check_choice(errors: dict, field: str, value: str, choices, *, blank: bool = False) -> None:
    if (blank and value == "") or value in choices.values:
        return
    _add(errors, field, _("“%(value)s” is not a valid choice.") % {"value": value})


def _check_owner(errors: dict, owner: Membership | None, agency_id: int) -> None:
    if owner is None:
        return
    if owner.agency_id != agency_id:
        _add(
            errors,
            "owner",
            _("Owner %(owner)s is not an active staff member of this agency.")
            % {"owner": f"#{owner.pk}"},
        )
    elif not owner.is_active or not owner.is_staff_member:
        _add(
            errors,
            "owner",
            _("Owner %(owner)s is not an active staff member of this agency.")
            % {"owner": owner.user.display_name},
        )


def _cleaned_line(fields: _LineFields) -> _LineFields:
    """A template line's or an item's fields with the title and description stripped."""
    return replace(
        fields, title=_clean_text(fields.title), description=_clean_text(fields.description)
    )


def _check_line(errors: dict, fields: TemplateItemFields | ItemFields) -> None:
    """What a template line and a checklist item both must be: a known section and document
    kind, a title, and visible to the brand when the brand approves it."""
    _check_choice(errors, "section", fields.section, SetupSection)
    _check_title(errors, fields.title)
    _check_choice(errors, "document_kind", fields.document_kind, DocumentKind, blank=True)
    if fields.needs_brand_approval and not fields.brand_visible:
        _add(
            errors,
            "needs_brand_approval",
            _("An item the brand approves must be visible to the brand."),
        )


def _lock_item(item: SetupItem) -> SetupItem:
    """The item's row, locked for this transaction (the joins of a brand user's scope stay
    unlocked)."""
    return SetupItem.objects.select_for_update(of=("self",)).get(pk=item.pk)


def _owner_and_account_manager(item: SetupItem, engagement: Engagement) -> list[Membership]:
    """Who hears of an item's news: its owner and the engagement's account manager."""
    return [m for m in (item.owner, engagement.account_manager) if m is not None]


def setup_item_url(item: SetupItem) -> str:
    return reverse(
        "setup:item_detail",
        kwargs={
            "agency_slug": item.engagement.agency.slug,
            "engagement_id": item.engagement_id,
            "setup_item_id": item.pk,
        },
    )


# --- templates --------------------------------------------------------------------------------


@transaction.atomic
def setup_templates_ensure_defaults(*, agency: Agency) -> list[SetupTemplate]:
    """Give the agency its default template for each store situation it has none for yet (in
    its default language); returns the templates created. Idempotent and safe when two first
    visits race: the agency's row is locked while it checks. A situation whose template was
    deactivated or renamed keeps it (its admins decided); nothing is created again. Pages call
    it on every visit, so the usual case (every situation has a template) takes no lock."""
    has_template = SetupTemplate.objects.filter(agency=agency).values_list("situation", flat=True)
    if set(DEFAULT_TEMPLATES) <= set(has_template):
        return []
    Agency.objects.select_for_update().filter(pk=agency.pk).first()
    taken = set(SetupTemplate.objects.filter(agency=agency).values_list("situation", "name"))
    situations = {situation for situation, _name in taken}
    names = {name for _situation, name in taken}
    created = []
    with translation.override(agency.default_language):
        for situation, (name, items) in DEFAULT_TEMPLATES.items():
            if situation in situations or str(name) in names:
                continue
            template = SetupTemplate.objects.create(
                agency=agency, name=str(name), situation=situation
            )
            for position, item in enumerate(items, start=1):
                SetupTemplateItem.objects.create(
                    template=template,
                    section=item.section,
                    title=str(item.title),
                    description=str(item.description),
                    document_kind=item.document_kind,
                    position=position,
                    due_days=item.due_days,
                    brand_visible=item.brand_visible,
                    needs_brand_approval=item.needs_brand_approval,
                    per_main_product=item.per_main_product,
                )
            created.append(template)
    return created


def _validate_template(
    *, agency: Agency, name: str, situation: str, template: SetupTemplate | None = None
) -> None:
    errors: dict[str, list[str]] = {}
    if not name:
        _add(errors, "name", _("Enter a name."))
    elif len(name) > TITLE_LENGTH:
        _add(
            errors,
            "name",
            _("The name has %(length)s characters; at most %(limit)s are allowed.")
            % {"length": len(name), "limit": TITLE_LENGTH},
        )
    else:
        clash = SetupTemplate.objects.filter(agency=agency, name=name)
        if template is not None:
            clash = clash.exclude(pk=template.pk)
        if clash.exists():
            _add(errors, "name", _("A template named “%(name)s” exists already.") % {"name": name})
    from agency.models import StoreSituation

    _check_choice(errors, "situation", situation, StoreSituation)
    _raise(errors)


@transaction.atomic
def setup_template_create(
    *, actor: Membership, name: str, situation: str, is_active: bool = True
) -> SetupTemplate:
    _require_template_editor(actor)
    name = _clean_text(name)
    _validate_template(agency=actor.agency, name=name, situation=situation)
    return SetupTemplate.objects.create(
        agency=actor.agency, name=name, situation=situation, is_active=is_active
    )


@transaction.atomic
def setup_template_update(
    *, actor: Membership, template: SetupTemplate, name: str, situation: str, is_active: bool
) -> SetupTemplate:
    """Rename a template, change its situation, or take it out of use (checklists made from it
    keep their items; an inactive template is no longer offered)."""
    _require_template_editor(actor)
    name = _clean_text(name)
    _validate_template(agency=actor.agency, name=name, situation=situation, template=template)
    template.name, template.situation, template.is_active = name, situation, is_active
    template.save()
    return template


@dataclass(frozen=True)
class TemplateItemFields:
    section: str
    title: str
    description: str = ""
    document_kind: str = ""
    due_days: int = 14
    brand_visible: bool = True
    needs_brand_approval: bool = False
    per_main_product: bool = False


def _validate_template_item(fields: TemplateItemFields) -> TemplateItemFields:
    fields = _cleaned_line(fields)
    errors: dict[str, list[str]] = {}
    _check_line(errors, fields)
    if not isinstance(fields.due_days, int) or not 0 <= fields.due_days <= MAX_DUE_DAYS:
        _add(
            errors,
            "due_days",
            _("Due after %(days)s days: enter a number of days from 0 to %(limit)s.")
            % {"days": fields.due_days, "limit": MAX_DUE_DAYS},
        )
    _raise(errors)
    return fields


@transaction.atomic
def setup_template_item_create(
    *, actor: Membership, template: SetupTemplate, fields: TemplateItemFields
) -> SetupTemplateItem:
    _require_template_editor(actor)
    fields = _validate_template_item(fields)
    last = SetupTemplateItem.objects.filter(template=template).aggregate(last=Max("position"))
    return SetupTemplateItem.objects.create(
        template=template, position=(last["last"] or 0) + 1, **fields.__dict__
    )


@transaction.atomic
def setup_template_item_update(
    *, actor: Membership, item: SetupTemplateItem, fields: TemplateItemFields
) -> SetupTemplateItem:
    _require_template_editor(actor)
    fields = _validate_template_item(fields)
    for name, value in fields.__dict__.items():
        setattr(item, name, value)
    item.save()
    return item


@transaction.atomic
def setup_template_item_delete(*, actor: Membership, item: SetupTemplateItem) -> None:
    """Remove a line from a template; checklists made from it keep their items."""
    _require_template_editor(actor)
    item.delete()


@transaction.atomic
def setup_template_item_move(
    *, actor: Membership, item: SetupTemplateItem, direction: str
) -> SetupTemplateItem:
    """Move a line one place up or down (positions are renumbered 1..n on the way)."""
    _require_template_editor(actor)
    if direction not in {"up", "down"}:
        raise ValidationError(
            {"direction": _("“%(value)s” is not a valid choice.") % {"value": direction}}
        )
    SetupTemplate.objects.select_for_update().filter(pk=item.template_id).first()
    lines = list(
        SetupTemplateItem.objects.filter(template_id=item.template_id).order_by("position", "pk")
    )
    index = next(number for number, line in enumerate(lines) if line.pk == item.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(lines):
        lines[index], lines[other] = lines[other], lines[index]
    for position, line in enumerate(lines, start=1):
        if line.position != position:
            line.position = position
            line.save(update_fields=["position"])
    return next(line for line in lines if line.pk == item.pk)


# --- creating a checklist from a template ------------------------------------------------------


@dataclass(frozen=True)
class MainProduct:
    item_id: str
    name: str


def main_products_parse(text: str) -> list[MainProduct]:
    """Main products entered one per line as "<item id> <name>" (blank lines skipped); every
    bad line is reported by its number."""
    errors: list[str] = []
    products: list[MainProduct] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        shown = line if len(line) <= 60 else line[:57] + "…"
        match = MAIN_PRODUCT_LINE.match(line)
        if match is None:
            errors.append(
                _(
                    "Line %(line)s (“%(text)s”): start with the product's item id (digits only), "
                    "then its name."
                )
                % {"line": number, "text": shown}
            )
            continue
        item_id, name = match[1], _clean_text(match[2])
        if not name:
            errors.append(
                _("Line %(line)s (“%(text)s”): the product name is missing after the item id.")
                % {"line": number, "text": shown}
            )
        elif len(item_id) > ITEM_ID_LENGTH or len(name) > PRODUCT_NAME_LENGTH:
            errors.append(
                _(
                    "Line %(line)s: the item id may have at most %(id_limit)s digits and the "
                    "name at most %(name_limit)s characters."
                )
                % {"line": number, "id_limit": ITEM_ID_LENGTH, "name_limit": PRODUCT_NAME_LENGTH}
            )
        elif item_id in first_line:
            errors.append(
                _("Line %(line)s: item id %(item_id)s is already on line %(first)s.")
                % {"line": number, "item_id": item_id, "first": first_line[item_id]}
            )
        else:
            first_line[item_id] = number
            products.append(MainProduct(item_id=item_id, name=name))
    if not errors and len(products) > MAX_MAIN_PRODUCTS:
        errors.append(
            _("%(count)s main products entered; at most %(limit)s are allowed.")
            % {"count": len(products), "limit": MAX_MAIN_PRODUCTS}
        )
    if errors:
        raise ValidationError({"main_products": errors})
    return products


def _product_title(title: str, product: MainProduct) -> str:
    suffix = f" · {product.name}"
    return (
        title[: TITLE_LENGTH - len(suffix)] + suffix
        if len(title + suffix) > TITLE_LENGTH
        else title + suffix
    )


@transaction.atomic
def setup_checklist_create(
    *,
    actor: Membership,
    engagement: Engagement,
    template: SetupTemplate,
    main_products: list[MainProduct],
    start_date: datetime.date | None,
    owner: Membership | None = None,
    add_to_existing: bool = False,
) -> list[SetupItem]:
    """Create the engagement's checklist from a template: one item per template line, and one
    per main product for the lines that say so; each due `due_days` after `start_date`, owned
    by `owner`. An engagement has one checklist: a second run (from any template) is refused
    unless `add_to_existing`, which appends the template's items to the checklist. Visual items
    wait for the brand's approval where the template line says so and the approved proposal
    agreed to it (`Engagement.brand_approves_visuals`)."""
    _require_staff(actor)
    workspace_check_writable(engagement=engagement, service=Service.SETUP)
    # Serialise two creations for the same engagement (the "already has one" check below).
    Engagement.objects.select_for_update(of=("self",)).filter(pk=engagement.pk).first()
    errors: dict[str, list[str]] = {}
    if template.agency_id != engagement.agency_id or not template.is_active:
        _add(
            errors,
            "template",
            _("The template “%(name)s” is not in use.") % {"name": template.name},
        )
    lines = list(selectors.setup_template_items(template=template))
    if not lines:
        _add(
            errors,
            "template",
            _("The template “%(name)s” has no items.") % {"name": template.name},
        )
    if any(line.per_main_product for line in lines) and not main_products:
        _add(
            errors,
            "main_products",
            _(
                "The template “%(name)s” has one item per main product: enter at least one main "
                "product."
            )
            % {"name": template.name},
        )
    if start_date is None:
        _add(errors, "start_date", _("Enter the date the checklist starts."))
    _check_owner(errors, owner, engagement.agency_id)
    existing = SetupItem.objects.filter(engagement=engagement)
    if not add_to_existing and existing.exists():
        _add(
            errors,
            "add_to_existing",
            _(
                "This engagement already has a setup checklist (%(count)s items). Tick “Add to "
                "the existing checklist” to add the template's items to it."
            )
            % {"count": existing.count()},
        )
    _raise(errors)
    position = existing.aggregate(last=Max("position"))["last"] or 0
    created = []
    for line in lines:
        for product in main_products if line.per_main_product else [None]:
            position += 1
            created.append(
                SetupItem.objects.create(
                    engagement=engagement,
                    section=line.section,
                    title=_product_title(line.title, product) if product else line.title,
                    description=line.description,
                    position=position,
                    product_item_id=product.item_id if product else "",
                    product_name=product.name if product else "",
                    owner=owner,
                    due_date=start_date + datetime.timedelta(days=line.due_days),
                    brand_visible=line.brand_visible,
                    needs_brand_approval=line.needs_brand_approval
                    and (line.section != SetupSection.VISUAL or engagement.brand_approves_visuals),
                    document_kind=line.document_kind,
                    created_by=actor.user,
                )
            )
    return created


# --- items --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFields:
    """What staff edit on an item (the status has its own service)."""

    section: str
    title: str
    description: str = ""
    owner: Membership | None = None
    due_date: datetime.date | None = None
    brand_visible: bool = True
    needs_brand_approval: bool = False
    document_kind: str = ""
    issue_date: datetime.date | None = None
    expiry_date: datetime.date | None = None
    reminder_days: int = 30


def _validate_item(
    fields: ItemFields, *, agency_id: int, item: SetupItem | None = None
) -> ItemFields:
    fields = _cleaned_line(fields)
    errors: dict[str, list[str]] = {}
    _check_line(errors, fields)
    _check_owner(errors, fields.owner, agency_id)
    if not fields.document_kind and (fields.issue_date or fields.expiry_date):
        _add(
            errors,
            "document_kind",
            _("Only a document has issue and expiry dates: choose which document this is."),
        )
    if fields.issue_date and fields.expiry_date and fields.expiry_date < fields.issue_date:
        _add(
            errors,
            "expiry_date",
            _("The expiry date %(expiry)s is before the issue date %(issue)s.")
            % {"expiry": fields.expiry_date.isoformat(), "issue": fields.issue_date.isoformat()},
        )
    if (
        not isinstance(fields.reminder_days, int)
        or not 1 <= fields.reminder_days <= selectors.MAX_REMINDER_DAYS
    ):
        _add(
            errors,
            "reminder_days",
            _("Remind %(days)s days before expiry: enter a number of days from 1 to %(limit)s.")
            % {"days": fields.reminder_days, "limit": selectors.MAX_REMINDER_DAYS},
        )
    if item is not None:
        if item.status == SetupItemStatus.BRAND_REVIEW and not fields.needs_brand_approval:
            _add(
                errors,
                "needs_brand_approval",
                _(
                    "“%(title)s” is waiting for the brand: change its status before it stops "
                    "needing the brand's approval."
                )
                % {"title": item.title},
            )
        if (
            item.status == SetupItemStatus.DONE
            and fields.needs_brand_approval
            and item.brand_decision != BrandDecision.APPROVED
        ):
            _add(
                errors,
                "needs_brand_approval",
                _("“%(title)s” is done without the brand's approval; reopen it first.")
                % {"title": item.title},
            )
    _raise(errors)
    return fields


@transaction.atomic
def setup_item_create(
    *, actor: Membership, engagement: Engagement, fields: ItemFields
) -> SetupItem:
    """An ad-hoc item added to the engagement's checklist (at the end)."""
    _require_staff(actor)
    workspace_check_writable(engagement=engagement, service=Service.SETUP)
    fields = _validate_item(fields, agency_id=engagement.agency_id)
    last = SetupItem.objects.filter(engagement=engagement).aggregate(last=Max("position"))
    return SetupItem.objects.create(
        engagement=engagement,
        position=(last["last"] or 0) + 1,
        created_by=actor.user,
        **fields.__dict__,
    )


@transaction.atomic
def setup_item_update(*, actor: Membership, item: SetupItem, fields: ItemFields) -> SetupItem:
    """Edit an item's fields. A renewed document (a new expiry date) is reminded again."""
    _require_staff(actor)
    workspace_check_writable(engagement=item.engagement, service=Service.SETUP)
    locked = _lock_item(item)
    fields = _validate_item(fields, agency_id=locked.agency_id, item=locked)
    for name, value in fields.__dict__.items():
        setattr(locked, name, value)
    locked.save()
    return locked


@transaction.atomic
def setup_item_set_status(*, actor: Membership, item: SetupItem, status: str) -> SetupItem:
    """Move an item to another status (staff); see the module's rules."""
    _require_staff(actor)
    engagement = item.engagement
    workspace_check_writable(engagement=engagement, service=Service.SETUP)
    errors: dict[str, list[str]] = {}
    _check_choice(errors, "status", status, SetupItemStatus)
    _raise(errors)
    locked = _lock_item(item)
    if status == locked.status:
        return locked
    if status == SetupItemStatus.BRAND_REVIEW and not locked.needs_brand_approval:
        raise ValidationError(
            {
                "status": _(
                    "“%(title)s” does not need the brand's approval; it cannot wait for the brand."
                )
                % {"title": locked.title}
            }
        )
    if (
        status == SetupItemStatus.DONE
        and locked.needs_brand_approval
        and locked.brand_decision != BrandDecision.APPROVED
    ):
        raise ValidationError(
            {
                "status": _(
                    "“%(title)s” needs the brand's approval before it is done: move it to "
                    "“Waiting for the brand” and let the brand owner approve it."
                )
                % {"title": locked.title}
            }
        )
    previous = locked.status
    locked.status = status
    if status == SetupItemStatus.DONE:
        locked.completed_at = timezone.now()
    elif previous == SetupItemStatus.DONE:
        locked.completed_at = None
    if status == SetupItemStatus.BRAND_REVIEW or (
        previous == SetupItemStatus.DONE and status != SetupItemStatus.NOT_NEEDED
    ):
        locked.brand_decision = BrandDecision.PENDING
    locked.save()
    if status == SetupItemStatus.BRAND_REVIEW:
        notification_send(
            agency=engagement.agency,
            recipients=selectors.setup_brand_owners(engagement=engagement),
            brand=engagement.store.brand,
            template="setup_brand_review",
            context={"item": locked, "engagement": engagement, "actor": actor.user},
            url=setup_item_url(locked),
        )
    return locked


@transaction.atomic
def setup_item_brand_decide(
    *, actor: Membership, item: SetupItem, decision: str, comment: str = ""
) -> SetupItem:
    """The brand owner approves an item waiting for the brand (→ done) or requests changes with
    a comment (→ in progress); the item's owner and the account manager hear of it."""
    engagement = item.engagement
    if not can_approve_for_brand(actor, engagement.store.brand_id):
        raise PermissionDenied
    workspace_check_writable(engagement=engagement, service=Service.SETUP)
    comment = _clean_text(comment)
    errors: dict[str, list[str]] = {}
    if decision not in {BrandDecision.APPROVED, BrandDecision.CHANGES_REQUESTED}:
        _add(errors, "decision", _("“%(value)s” is not a valid choice.") % {"value": decision})
    if decision == BrandDecision.CHANGES_REQUESTED and not comment:
        _add(errors, "comment", _("Say what should change: a comment is required."))
    if len(comment) > MAX_NOTE_LENGTH:
        _add(
            errors,
            "comment",
            _("The comment has %(length)s characters; at most %(limit)s are allowed.")
            % {"length": len(comment), "limit": MAX_NOTE_LENGTH},
        )
    _raise(errors)
    locked = _lock_item(item)
    if locked.status != SetupItemStatus.BRAND_REVIEW or not locked.brand_visible:
        raise ValidationError(
            _("“%(title)s” is not waiting for the brand's decision (it is “%(status)s”).")
            % {"title": locked.title, "status": locked.get_status_display()}
        )
    locked.brand_decision = decision
    locked.brand_comment = comment
    locked.brand_decided_by = actor.user
    locked.brand_decided_at = timezone.now()
    if decision == BrandDecision.APPROVED:
        locked.status = SetupItemStatus.DONE
        locked.completed_at = locked.brand_decided_at
    else:
        locked.status = SetupItemStatus.IN_PROGRESS
    locked.save()
    notification_send(
        agency=engagement.agency,
        recipients=_owner_and_account_manager(locked, engagement),
        brand=engagement.store.brand,
        template="setup_brand_decided",
        context={"item": locked, "engagement": engagement, "actor": actor.user},
        url=setup_item_url(locked),
    )
    return locked


# --- evidence -----------------------------------------------------------------------------------


@transaction.atomic
def setup_evidence_add(
    *,
    actor: Membership,
    item: SetupItem,
    upload: UploadedFile | None = None,
    url: str = "",
    note: str = "",
) -> SetupEvidence:
    """A file (checked by content and size), a link or a note on an item; at least one."""
    _require_staff(actor)
    workspace_check_writable(engagement=item.engagement, service=Service.SETUP)
    url, note = _clean_text(url), _clean_text(note)
    errors: dict[str, list[str]] = {}
    if upload is None and not url and not note:
        raise ValidationError(_("Add a file, a link or a note."))
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            _add(
                errors,
                "url",
                _("“%(url)s” is not a web address (starting with http:// or https://).")
                % {"url": url[:100]},
            )
        if len(url) > 500:
            _add(errors, "url", _("The link is longer than 500 characters."))
    if len(note) > MAX_NOTE_LENGTH:
        _add(
            errors,
            "note",
            _("The note has %(length)s characters; at most %(limit)s are allowed.")
            % {"length": len(note), "limit": MAX_NOTE_LENGTH},
        )
    _raise(errors)
    evidence = SetupEvidence(
        agency_id=item.agency_id, item=item, url=url, note=note, created_by=actor.user
    )
    if upload is None:
        evidence.save()
        return evidence
    file_store(instance=evidence, upload=upload)  # refuses by size and content before storing
    try:
        evidence.save()
    except Exception:
        evidence.file.storage.delete(evidence.file.name)  # no row, no file
        raise
    return evidence


@transaction.atomic
def setup_evidence_delete(*, actor: Membership, evidence: SetupEvidence) -> None:
    """Staff delete the evidence they added (its file goes once the deletion commits)."""
    _require_staff(actor)
    item = evidence.item
    workspace_check_writable(engagement=item.engagement, service=Service.SETUP)
    if evidence.created_by_id != actor.user_id:
        raise ValidationError(_("Only the person who added this evidence can delete it."))
    name, storage = evidence.file.name, evidence.file.storage
    evidence.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name) if storage.exists(name) else None)


# --- expiry reminders ---------------------------------------------------------------------------


def setup_expiry_reminders_send(*, agency: Agency, today: datetime.date) -> int:
    """Remind each document's owner and the engagement's account manager when the document is
    within its reminder window (or already expired), once per expiry date: the item's
    `reminded_for_expiry` is claimed by a conditional UPDATE before anyone is notified, so
    repeated or concurrent runs notify once, and a renewed document (a new expiry date) is
    reminded again. Ended engagements and items marked "not needed" are left alone. Returns the
    number of items reminded."""
    horizon = today + datetime.timedelta(days=selectors.MAX_REMINDER_DAYS)
    candidates = (
        SetupItem.objects.filter(agency=agency, expiry_date__isnull=False, expiry_date__lte=horizon)
        .exclude(document_kind="")
        .exclude(status=SetupItemStatus.NOT_NEEDED)
        .exclude(engagement__status=EngagementStatus.ENDED)
        .select_related(
            "engagement__store__brand", "engagement__account_manager__user", "owner__user"
        )
    )
    reminded = 0
    for item in candidates:
        if item.reminded_for_expiry == item.expiry_date:
            continue
        if item.expiry_date > today + datetime.timedelta(days=item.reminder_days):
            continue
        with transaction.atomic():
            claimed = (
                SetupItem.objects.filter(pk=item.pk, expiry_date=item.expiry_date)
                .exclude(reminded_for_expiry=item.expiry_date)
                .update(reminded_for_expiry=item.expiry_date)
            )
            if not claimed:
                continue  # another run reminded it, or the date changed meanwhile
            engagement = item.engagement
            notification_send(
                agency=agency,
                recipients=_owner_and_account_manager(item, engagement),
                brand=engagement.store.brand,
                template="setup_document_expiring",
                context={
                    "item": item,
                    "engagement": engagement,
                    "expired": item.expiry_date < today,
                    "days_left": (item.expiry_date - today).days,
                },
                url=setup_item_url(item),
            )
        reminded += 1
    return reminded
