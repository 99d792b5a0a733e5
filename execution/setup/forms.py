"""Forms of the setup area. They parse input into the services' arguments; the rules (owners from
the agency's staff, expiry after issue, approval only for brand-visible items, ...) live in
`execution.setup.services`."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from agency.models import Agency, StoreSituation
from execution.models.setup import BrandDecision, DocumentKind, SetupItemStatus, SetupSection
from execution.setup import selectors, services


class DateInput(forms.DateInput):
    """A browser date picker: its value must be ISO (YYYY-MM-DD) whatever the language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


OWNER_ERRORS = {
    "invalid_choice": _("Owner %(value)s is not an active staff member of this agency."),
}


def _owner_field(agency: Agency, field: forms.ModelChoiceField) -> None:
    field.queryset = selectors.setup_owner_choices(agency=agency)
    field.label_from_instance = lambda member: member.user.display_name


class LineForm(forms.Form):
    """The fields a template line and a checklist item open with (the subclasses add theirs
    after these, in the order they are shown)."""

    section = forms.ChoiceField(label=_("Section"), choices=SetupSection.choices)
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class TemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    situation = forms.ChoiceField(label=_("Store situation"), choices=StoreSituation.choices)
    is_active = forms.BooleanField(
        label=_("In use"),
        required=False,
        initial=True,
        help_text=_("Only templates in use are offered when a checklist is created."),
    )


class TemplateItemForm(LineForm):
    document_kind = forms.ChoiceField(
        label=_("Document"),
        required=False,
        choices=[("", _("Not a document")), *DocumentKind.choices],
        help_text=_("Documents carry issue and expiry dates, and their owner is reminded."),
    )
    due_days = forms.IntegerField(
        label=_("Due after (days)"),
        min_value=0,
        max_value=services.MAX_DUE_DAYS,
        initial=14,
        help_text=_("Counted from the day the checklist starts."),
    )
    brand_visible = forms.BooleanField(
        label=_("Visible to the brand"), required=False, initial=True
    )
    needs_brand_approval = forms.BooleanField(label=_("The brand approves"), required=False)
    per_main_product = forms.BooleanField(
        label=_("One per main product"),
        required=False,
        help_text=_("For example a detail page: one item for each main product."),
    )

    def fields_value(self) -> services.TemplateItemFields:
        return services.TemplateItemFields(**self.cleaned_data)


class ChecklistCreateForm(forms.Form):
    """Create the engagement's checklist from a template."""

    template = forms.ModelChoiceField(
        label=_("Template"),
        queryset=None,
        error_messages={"invalid_choice": _("Choose a template in use.")},
    )
    main_products = forms.CharField(
        label=_("Main products"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "placeholder": "6543210987 保湿精华水"}),
        help_text=_(
            "One per line: the Tmall item id, then the product name. Items marked “one per main "
            "product” (detail pages, title keywords) are created for each."
        ),
    )
    start_date = forms.DateField(label=_("Start date"), widget=DateInput)
    owner = forms.ModelChoiceField(
        label=_("Owner of every item"),
        queryset=None,
        required=False,
        error_messages=OWNER_ERRORS,
        help_text=_("You can change each item's owner afterwards."),
    )
    add_to_existing = forms.BooleanField(
        label=_("Add to the existing checklist"),
        required=False,
        help_text=_("Only needed when this engagement already has a checklist."),
    )

    def __init__(self, *args, agency: Agency, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = selectors.setup_template_list(agency=agency).filter(
            is_active=True
        )
        _owner_field(agency, self.fields["owner"])

    def clean_main_products(self):
        try:
            return services.main_products_parse(self.cleaned_data["main_products"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["main_products"]) from error


class ItemForm(LineForm):
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=None, required=False, error_messages=OWNER_ERRORS
    )
    due_date = forms.DateField(label=_("Due date"), required=False, widget=DateInput)
    brand_visible = forms.BooleanField(
        label=_("Visible to the brand"), required=False, initial=True
    )
    needs_brand_approval = forms.BooleanField(label=_("The brand approves"), required=False)
    document_kind = forms.ChoiceField(
        label=_("Document"),
        required=False,
        choices=[("", _("Not a document")), *DocumentKind.choices],
    )
    issue_date = forms.DateField(label=_("Issue date"), required=False, widget=DateInput)
    expiry_date = forms.DateField(label=_("Expiry date"), required=False, widget=DateInput)
    reminder_days = forms.IntegerField(
        label=_("Remind before expiry (days)"),
        min_value=1,
        max_value=selectors.MAX_REMINDER_DAYS,
        initial=30,
        required=False,
    )

    def __init__(self, *args, agency: Agency, **kwargs):
        super().__init__(*args, **kwargs)
        _owner_field(agency, self.fields["owner"])

    def fields_value(self) -> services.ItemFields:
        data = dict(self.cleaned_data)
        if data.get("reminder_days") is None:
            data["reminder_days"] = 30
        return services.ItemFields(**data)

    @classmethod
    def initial_for(cls, item) -> dict:
        return {
            "section": item.section,
            "title": item.title,
            "description": item.description,
            "owner": item.owner_id,
            "due_date": item.due_date,
            "brand_visible": item.brand_visible,
            "needs_brand_approval": item.needs_brand_approval,
            "document_kind": item.document_kind,
            "issue_date": item.issue_date,
            "expiry_date": item.expiry_date,
            "reminder_days": item.reminder_days,
        }


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=SetupItemStatus.choices)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (BrandDecision.APPROVED, _("Approve")),
            (BrandDecision.CHANGES_REQUESTED, _("Request changes")),
        ],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you request changes: say what should change."),
    )


class EvidenceForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        required=False,
        help_text=_("PDF, image, MP4, Word, Excel or PowerPoint; checked by its content."),
    )
    url = forms.CharField(label=_("Link"), required=False, max_length=500)
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *SetupItemStatus.choices]
    )
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            ("", _("Anyone")),
            *[(owner.pk, owner.user.display_name) for owner in owners],
        ]
