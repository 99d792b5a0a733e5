"""REST endpoints of the proposals app (read only: the approval stays in the browser, where the
brand owner signs with their typed name).

A proposal comes with the versions the caller may see (a brand-restricted caller never sees the
agency's drafts), each with its frozen content, status and approval evidence. Comments, and with
them internal notes, are not part of the API.
"""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch
from django.urls import include, path
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers
from rest_framework.routers import SimpleRouter

from agency.models import ApiScope
from agency.rest import IdFilter, TenantViewSet
from proposals.models import (
    BRAND_VISIBLE_STATUSES,
    Approval,
    Proposal,
    ProposalVersion,
    ResourceKind,
    VersionStatus,
)


class ProposalApprovalSerializer(serializers.ModelSerializer):
    approved_by = serializers.CharField(source="user.email", read_only=True)

    class Meta:
        model = Approval
        fields = ["approved_by", "signed_name", "approved_at", "ip", "user_agent", "content_hash"]


class _TargetSchema(serializers.Serializer):
    metric = serializers.CharField(help_text="A metric name of the glossary, e.g. gmv, roi.")
    comparison = serializers.ChoiceField(choices=[">=", "<="])
    value = serializers.CharField(help_text="A decimal string.")
    period = serializers.ChoiceField(
        choices=["month", "cumulative"], help_text="That month, or months 1 to by_month."
    )
    by_month = serializers.IntegerField(min_value=1)


class _MilestoneSchema(serializers.Serializer):
    month = serializers.IntegerField(min_value=1)
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)


class _ResourceSchema(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ResourceKind.choices)
    channel = serializers.CharField(allow_blank=True)
    month = serializers.IntegerField(allow_null=True)
    description = serializers.CharField(allow_blank=True)
    amount = serializers.CharField(allow_null=True, help_text="A decimal string, or null.")


class _ResponsibilitySchema(serializers.Serializer):
    party = serializers.ChoiceField(choices=["brand", "agency"])
    task = serializers.CharField()
    owner = serializers.CharField(allow_blank=True)
    due_date = serializers.DateField(allow_null=True)


class _CommissionTierSchema(serializers.Serializer):
    gmv_from = serializers.CharField(help_text="A decimal string.")
    gmv_to = serializers.CharField(allow_null=True, help_text="A decimal string; null: no cap.")
    rate_percent = serializers.CharField(help_text="A decimal string, 0 to 100.")


class _FeesSchema(serializers.Serializer):
    monthly_base_fee = serializers.CharField(allow_null=True, help_text="A decimal string.")
    kpi_bonus = serializers.CharField(allow_blank=True)
    commission_tiers = _CommissionTierSchema(many=True)


class ProposalContentSchema(serializers.Serializer):
    """The shape of a version's content (documentation only; the snapshot is returned as is)."""

    scope_services = serializers.ListField(child=serializers.CharField())
    brand_approves_visuals = serializers.BooleanField(
        required=False,
        help_text="Whether the store's visual designs wait for the brand's approval "
        "(absent in versions sent before the question existed: yes).",
    )
    targets = _TargetSchema(many=True)
    milestones = _MilestoneSchema(many=True)
    resources = _ResourceSchema(many=True)
    responsibilities = _ResponsibilitySchema(many=True)
    fees = _FeesSchema()
    terms = serializers.CharField(allow_blank=True)
    planner = serializers.DictField(
        allow_null=True, help_text="The target planner's assumptions, or null."
    )


@extend_schema_field(ProposalContentSchema)
class ContentField(serializers.Field):
    """The version's content (scope, targets, milestones, resources, responsibilities, fees,
    terms, planner): frozen as sent, or the draft's current rows."""

    def to_representation(self, version):
        return version.content()


class ProposalVersionSerializer(serializers.ModelSerializer):
    content = ContentField(source="*", read_only=True)
    approval = serializers.SerializerMethodField()

    class Meta:
        model = ProposalVersion
        fields = ["id", "number", "status", "sent_at", "content_hash", "content", "approval"]

    @extend_schema_field(ProposalApprovalSerializer(allow_null=True))
    def get_approval(self, version):
        approvals = getattr(version, "api_approvals", None)
        if approvals is None:
            approvals = list(Approval.objects.filter(version=version).select_related("user"))
        return ProposalApprovalSerializer(approvals[0]).data if approvals else None


class ProposalSerializer(serializers.ModelSerializer):
    brand = serializers.IntegerField(source="engagement.store.brand_id", read_only=True)
    versions = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = ["id", "title", "engagement", "brand", "created_at", "versions"]

    @extend_schema_field(ProposalVersionSerializer(many=True))
    def get_versions(self, proposal):
        return ProposalVersionSerializer(proposal.api_versions, many=True).data


class ProposalFilter(django_filters.FilterSet):
    engagement = IdFilter(field_name="engagement_id", help_text="An engagement id.")
    status = django_filters.ChoiceFilter(
        choices=VersionStatus.choices,
        method="filter_status",
        help_text="Proposals with a version in this status.",
    )

    class Meta:
        model = Proposal
        fields = ["engagement", "status"]

    def filter_status(self, queryset, name, value):
        return queryset.filter(versions__status=value).distinct()


PROPOSAL_EXAMPLE = {
    "id": 5,
    "title": "山野茶事 2026 运营方案",
    "engagement": 31,
    "brand": 7,
    "created_at": "2026-03-10T02:00:00Z",
    "versions": [
        {
            "id": 12,
            "number": 2,
            "status": "approved",
            "sent_at": "2026-03-18T06:30:00Z",
            "content_hash": "9f2c5a1e0b7d4c3a8e6f1d2b3c4a5e6f7081920a1b2c3d4e5f60718293a4b5c6",
            "content": {
                "scope_services": ["setup", "traffic", "conversion", "monitoring"],
                "targets": [
                    {
                        "metric": "gmv",
                        "comparison": ">=",
                        "value": "500000.00",
                        "period": "month",
                        "by_month": 3,
                    }
                ],
                "milestones": [{"month": 1, "title": "店铺基础搭建完成", "description": ""}],
                "resources": [
                    {
                        "kind": "paid_budget",
                        "channel": "zhitongche",
                        "month": None,
                        "description": "",
                        "amount": "20000.00",
                    }
                ],
                "responsibilities": [
                    {
                        "party": "brand",
                        "task": "提供品牌授权书",
                        "owner": "品牌方法务",
                        "due_date": "2026-03-31",
                    }
                ],
                "fees": {
                    "monthly_base_fee": "30000.00",
                    "kpi_bonus": "",
                    "commission_tiers": [
                        {"gmv_from": "0.00", "gmv_to": "500000.00", "rate_percent": "3.00"}
                    ],
                },
                "terms": "按月结算。",
                "planner": None,
            },
            "approval": {
                "approved_by": "owner@shanye.example",
                "signed_name": "李明",
                "approved_at": "2026-03-19T01:12:00Z",
                "ip": "203.0.113.7",
                "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
                "content_hash": "9f2c5a1e0b7d4c3a8e6f1d2b3c4a5e6f7081920a1b2c3d4e5f60718293a4b5c6",
            },
        }
    ],
}


@extend_schema_view(
    list=extend_schema(
        description="Proposals this token may see, each with its versions: status, the content "
        "(frozen when sent; its SHA-256 in `content_hash`) and the approval evidence (who, when, "
        "the typed signature, IP, browser, the hash approved). A brand-restricted token sees only "
        "versions sent to the brand, never drafts. Filter by engagement or by a version status. "
        "Needs `reports:read`.",
        examples=[OpenApiExample("A proposal", value=PROPOSAL_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        description="One proposal with its versions and approval evidence. Needs `reports:read`.",
        examples=[OpenApiExample("A proposal", value=PROPOSAL_EXAMPLE, response_only=True)],
    ),
)
class ProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    serializer_class = ProposalSerializer
    filterset_class = ProposalFilter
    required_scope = ApiScope.REPORTS_READ.value
    ordering_fields = ["id", "created_at"]
    ordering = ["-id"]
    lookup_value_converter = "int"

    def get_queryset(self):
        # The rows only matter for drafts (a sent version answers from its snapshot).
        versions = ProposalVersion.objects.order_by("-number").prefetch_related(
            "targets",
            "milestones",
            "resources",
            "responsibilities",
            "commission_tiers",
        )
        proposals = Proposal.objects.select_related("engagement__store")
        if getattr(self, "swagger_fake_view", False):
            return proposals  # the schema generator asks only for the model
        if self.caller.brand_ids is not None:
            versions = versions.filter(status__in=BRAND_VISIBLE_STATUSES)
            proposals = proposals.filter(versions__status__in=BRAND_VISIBLE_STATUSES).distinct()
        return proposals.prefetch_related(
            Prefetch("versions", queryset=versions, to_attr="api_versions")
        )


router = SimpleRouter(use_regex_path=False)
router.register("proposals", ProposalViewSet, basename="proposal")

urlpatterns = [path("", include(router.urls))]
