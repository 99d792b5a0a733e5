"""Forms of the tenancy app. Choice fields get their querysets from scoped selectors in
__init__; a form that forgets fails closed (its default queryset has no scope)."""

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from agency.models import (
    BRAND_ROLES,
    STAFF_ROLES,
    Agency,
    ApiScope,
    AuditAction,
    Brand,
    Language,
    Membership,
    Role,
    Store,
    User,
)


class InviteForm(forms.Form):
    KIND_STAFF = "staff"
    KIND_BRAND = "brand"

    email = forms.EmailField(label=_("E-mail address"))
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    role = forms.ChoiceField(label=_("Role"))
    brands = forms.ModelMultipleChoiceField(
        label=_("Brands"),
        queryset=Brand.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, kind: str, brands, **kwargs):
        super().__init__(*args, **kwargs)
        roles = STAFF_ROLES if kind == self.KIND_STAFF else BRAND_ROLES
        self.fields["role"].choices = [(r.value, r.label) for r in Role if r in roles]
        if kind == self.KIND_STAFF:
            del self.fields["brands"]
        else:
            self.fields["brands"].queryset = brands
            self.fields["brands"].required = True


class MembershipForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    brands = forms.ModelMultipleChoiceField(
        label=_("Brands"),
        queryset=Brand.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, membership, brands, **kwargs):
        super().__init__(*args, **kwargs)
        roles = STAFF_ROLES if membership.is_staff_member else BRAND_ROLES
        self.fields["role"].choices = [(r.value, r.label) for r in Role if r in roles]
        if membership.is_staff_member:
            del self.fields["brands"]
        else:
            self.fields["brands"].queryset = brands
            self.fields["brands"].required = True


class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ["name", "contact_name", "contact_email", "internal_notes"]
        widgets = {"internal_notes": forms.Textarea(attrs={"rows": 3})}


class StoreForm(forms.ModelForm):
    url = forms.URLField(label=_("Store URL"), required=False, assume_scheme="https")

    class Meta:
        model = Store
        fields = ["name", "situation", "shop_id", "url"]


class AgencySettingsForm(forms.ModelForm):
    class Meta:
        model = Agency
        fields = ["name", "logo", "primary_color", "time_zone", "default_language", "brief_hour"]
        widgets = {"primary_color": forms.TextInput(attrs={"type": "color"})}

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "size") and logo.size > 1024 * 1024:
            raise forms.ValidationError(_("The logo must be at most 1 MB."))
        # A small file can hold a huge image (a "pixel bomb") that every PDF and page would have
        # to decode: the size the image declares is checked too (read from its header only).
        image = getattr(logo, "image", None)
        if image is not None and image.width * image.height > LOGO_MAX_PIXELS:
            raise forms.ValidationError(
                _(
                    "The logo is %(width)s × %(height)s pixels: at most 16 million pixels "
                    "(for example 4000 × 4000) are accepted."
                )
                % {"width": image.width, "height": image.height}
            )
        return logo


LOGO_MAX_PIXELS = 16_000_000


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=Language.choices)
    next = forms.CharField(required=False)


class PasswordForgotForm(PasswordResetForm):
    """Also answers people invited but whose set-password link has expired (they have no usable
    password yet, which Django's form would skip): they can ask for a fresh link themselves."""

    def get_users(self, email):
        return User.objects.filter(email__iexact=email.strip(), is_active=True)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What uses the token, e.g. “Brand A BI nightly pull”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple
    )
    brand = forms.ModelChoiceField(
        label=_("Only this brand"),
        queryset=Brand.objects.none(),
        required=False,
        empty_label=_("Every brand"),
        help_text=_("A token for a brand's own systems should see that brand only."),
    )
    expires_days = forms.IntegerField(
        label=_("Expires after (days)"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Leave empty for a token that does not expire."),
    )

    def __init__(self, *args, brands, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands


class AuditFilterForm(forms.Form):
    """The audit log's filters (all optional); the page and its CSV export share them."""

    action = forms.ChoiceField(label=_("Event type"), required=False)
    member = forms.ModelChoiceField(
        label=_("Done by"),
        queryset=Membership.objects.none(),
        required=False,
        empty_label=_("Anyone"),
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("All event types")), *AuditAction.choices]
        self.fields["member"].queryset = members
        self.fields["member"].label_from_instance = lambda member: (
            f"{member.user.display_name} <{member.user.email}>"
            if member.user.full_name
            else member.user.email
        )

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            raise forms.ValidationError(_("The first day comes after the last."))
        return cleaned
