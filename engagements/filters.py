"""The one FilterSet of the engagement list, shared by the page and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agency.models import STAFF_ROLES, Brand, Membership
from engagements.lifecycle import Stage
from engagements.models import Engagement, EngagementStatus


class EngagementFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    stage = django_filters.ChoiceFilter(
        choices=Stage.choices, label=_("Stage"), empty_label=_("All stages")
    )
    brand = django_filters.ModelChoiceFilter(
        field_name="store__brand",
        queryset=Brand.objects.none(),
        label=_("Brand"),
        empty_label=_("All brands"),
    )
    manager = django_filters.ModelChoiceFilter(
        field_name="account_manager",
        queryset=Membership.objects.none(),
        label=_("Account manager"),
        empty_label=_("All managers"),
    )
    status = django_filters.ChoiceFilter(
        choices=EngagementStatus.choices, label=_("Status"), empty_label=_("All statuses")
    )

    class Meta:
        model = Engagement
        fields = ["q", "stage", "brand", "manager", "status"]

    def __init__(self, *args, brands=None, managers=None, **kwargs):
        """The choices are read in the request's tenant scope (the page passes its own lists)."""
        super().__init__(*args, **kwargs)
        self.filters["brand"].queryset = Brand.objects.all() if brands is None else brands
        self.filters["manager"].queryset = (
            Membership.objects.filter(role__in=STAFF_ROLES) if managers is None else managers
        )

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value)
            | Q(store__name__icontains=value)
            | Q(store__shop_id__icontains=value)
            | Q(store__brand__name__icontains=value)
            | Q(account_manager__user__full_name__icontains=value)
        )
