"""The one FilterSet of the engagement list, shared by the page and (later) the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agency.models import Brand, Membership
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

    def __init__(self, *args, brands, managers, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["brand"].queryset = brands
        self.filters["manager"].queryset = managers

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
