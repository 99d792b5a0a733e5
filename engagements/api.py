"""REST endpoints of the engagements app (read only; the lifecycle moves in the portal).

They reuse the page's `filters.EngagementFilter` and the tenant-scoped default manager; internal
notes never leave through the API.
"""

from django.urls import include, path
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.routers import SimpleRouter

from agency.models import ApiScope
from agency.rest import TenantViewSet
from engagements.filters import EngagementFilter
from engagements.lifecycle import STAGE_PHASE, Stage, stage_number
from engagements.models import Engagement, EngagementTarget


class EngagementTargetSerializer(serializers.ModelSerializer):
    value = serializers.DecimalField(max_digits=18, decimal_places=4, coerce_to_string=True)
    source_version = serializers.IntegerField(
        source="source_version_id",
        allow_null=True,
        help_text="The proposal version the target came from.",
    )

    class Meta:
        model = EngagementTarget
        fields = ["metric", "comparison", "value", "period", "by_month", "source_version"]


class EngagementSerializer(serializers.ModelSerializer):
    brand = serializers.IntegerField(source="store.brand_id", read_only=True)
    step = serializers.SerializerMethodField(help_text="The stage as agencies count it, 1 to 8.")
    phase = serializers.SerializerMethodField(help_text="before, during or after.")
    account_manager = serializers.CharField(
        source="account_manager.user.display_name", read_only=True
    )
    targets = EngagementTargetSerializer(
        many=True,
        read_only=True,
        help_text="The live KPI targets, from the approved proposal: `comparison` is >= or <=; "
        "`period` month (that month) or cumulative (months 1 to `by_month`).",
    )

    class Meta:
        model = Engagement
        fields = [
            "id",
            "title",
            "brand",
            "store",
            "goal",
            "scope_services",
            "start_date",
            "end_date",
            "stage",
            "step",
            "phase",
            "status",
            "account_manager",
            "targets",
            "created_at",
            "updated_at",
        ]

    def get_step(self, engagement) -> int:
        return stage_number(engagement.stage)

    def get_phase(self, engagement) -> str:
        return str(STAGE_PHASE[Stage(engagement.stage)].value)


ENGAGEMENT_EXAMPLE = {
    "id": 31,
    "title": "山野茶事 2026 growth",
    "brand": 7,
    "store": 12,
    "goal": "growth",
    "scope_services": ["setup", "traffic", "conversion", "monitoring"],
    "start_date": "2026-03-01",
    "end_date": None,
    "stage": "monitoring",
    "step": 6,
    "phase": "during",
    "status": "active",
    "account_manager": "王晓",
    "targets": [
        {
            "metric": "gmv",
            "comparison": ">=",
            "value": "500000.0000",
            "period": "month",
            "by_month": 3,
            "source_version": 12,
        },
        {
            "metric": "roi",
            "comparison": ">=",
            "value": "3.0000",
            "period": "month",
            "by_month": 3,
            "source_version": 12,
        },
    ],
    "created_at": "2026-03-01T02:00:00Z",
    "updated_at": "2026-06-20T08:15:00Z",
}


@extend_schema_view(
    list=extend_schema(
        description="Engagements this token may see, filtered like the portal's list (search, "
        "stage, brand, account manager, status). A `brand` or `manager` id this token cannot "
        "see is refused (400 naming the filter), not ignored. Needs `engagements:read`.",
        examples=[OpenApiExample("An engagement", value=ENGAGEMENT_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        description="One engagement: its stage, step (1 to 8), phase and live KPI targets. "
        "Needs `engagements:read`.",
        examples=[OpenApiExample("An engagement", value=ENGAGEMENT_EXAMPLE, response_only=True)],
    ),
)
class EngagementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    serializer_class = EngagementSerializer
    filterset_class = EngagementFilter
    required_scope = ApiScope.ENGAGEMENTS_READ.value
    ordering_fields = ["id", "title", "start_date", "created_at", "updated_at"]
    ordering = ["-id"]
    lookup_value_converter = "int"

    def get_queryset(self):
        return Engagement.objects.select_related("store", "account_manager__user").prefetch_related(
            "targets"
        )


router = SimpleRouter(use_regex_path=False)
router.register("engagements", EngagementViewSet, basename="engagement")

urlpatterns = [path("", include(router.urls))]
