"""REST endpoints of the reporting app (read only): daily briefs and weekly / monthly reviews.

Every report answers with ETag and Last-Modified (304 when the client's copy is current). A
brief is what was issued for a day: its latest revision (a corrected brief replaces the first),
as structured JSON or rendered (HTML, markdown, plain text). Reviews are published ones only; a
draft is not a report yet. All need `reports:read`.
"""

from __future__ import annotations

import datetime

import django_filters
from django.shortcuts import get_object_or_404
from django.urls import include, path
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers
from rest_framework.routers import SimpleRouter

from agency.models import ApiScope
from agency.rest import IdFilter, TenantAPIView, TenantViewSet, object_lookup, report_response
from engagements.models import Engagement
from reporting.briefs.render import brief_render_email, brief_render_markdown, brief_title
from reporting.briefs.services import brief_link
from reporting.models import (
    DailyBrief,
    Review,
    ReviewActionItem,
    ReviewKind,
    ReviewStatus,
)

# Serializers ---------------------------------------------------------------------------------


class BriefSummarySerializer(serializers.ModelSerializer):
    corrected = serializers.BooleanField(
        source="is_correction", help_text="A corrected brief: the day's data changed after sending."
    )

    class Meta:
        model = DailyBrief
        fields = ["id", "engagement", "date", "revision", "corrected", "created_at", "sent_at"]


class BriefSerializer(BriefSummarySerializer):
    content = serializers.JSONField(
        help_text="The brief: `date`, `metrics` (canonical metric → value, previous_day, "
        "same_day_last_week, avg_7d), `targets` (pacing), `sources`, `alerts` and `insights` "
        "(each rule, severity, evidence, action)."
    )

    class Meta(BriefSummarySerializer.Meta):
        fields = [*BriefSummarySerializer.Meta.fields, "language", "content"]


class ActionItemSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(
        source="owner.user.display_name", default=None, allow_null=True, read_only=True
    )

    class Meta:
        model = ReviewActionItem
        fields = ["id", "title", "owner", "due_date", "status", "updated_at"]


class ReviewSerializer(serializers.ModelSerializer):
    content = serializers.JSONField(
        help_text="The period's figures vs. the previous period and the targets, traffic by "
        "source, campaigns, products, the period's insights and the previous review's actions."
    )
    action_items = ActionItemSerializer(many=True, read_only=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "engagement",
            "kind",
            "period_start",
            "period_end",
            "narrative",
            "content",
            "action_items",
            "published_at",
            "updated_at",
        ]


# Examples ------------------------------------------------------------------------------------

BRIEF_CONTENT_EXAMPLE = {
    "date": "2026-11-26",
    "metrics": {
        "gmv": {
            "value": "48210.50",
            "previous_day": "45102.00",
            "same_day_last_week": "39980.20",
            "avg_7d": "43876.11",
        },
        "conversion_rate": {
            "value": "0.031250",
            "previous_day": "0.029874",
            "same_day_last_week": "0.027310",
            "avg_7d": "0.029102",
        },
    },
    "targets": [
        {
            "metric": "gmv",
            "comparison": ">=",
            "target": "1500000",
            "state": "current",
            "actual": "1204410.00",
            "expected": "1300000.00",
            "forecast": "1389704.00",
            "on_pace": False,
        }
    ],
    "alerts": [],
    "insights": [
        {
            "rule": "traffic_up_conversion_down",
            "severity": "warning",
            "evidence": {"visitors": 15420, "visitors_avg_7d": "12210.4"},
            "action": "检查主推商品详情页与人群定向。",
        }
    ],
}

BRIEF_EXAMPLE = {
    "id": 901,
    "engagement": 31,
    "date": "2026-11-26",
    "revision": 1,
    "corrected": False,
    "created_at": "2026-11-27T01:00:04Z",
    "sent_at": "2026-11-27T01:00:05Z",
    "language": "zh-hans",
    "content": BRIEF_CONTENT_EXAMPLE,
}

REVIEW_EXAMPLE = {
    "id": 77,
    "engagement": 31,
    "kind": "week",
    "period_start": "2026-11-16",
    "period_end": "2026-11-22",
    "narrative": "本周 GMV 环比增长 12%，直通车 ROI 回升至 3.1。",
    "content": {
        "metrics": {
            "gmv": {
                "value": "301220.00",
                "previous": "268950.00",
                "change": "32270.00",
                "change_ratio": "0.1200",
            },
        }
    },
    "action_items": [
        {
            "id": 12,
            "title": "下调低 ROI 计划出价 10%",
            "owner": "王晓",
            "due_date": "2026-11-25",
            "status": "open",
            "updated_at": "2026-11-23T03:00:00Z",
        }
    ],
    "published_at": "2026-11-23T04:00:00Z",
    "updated_at": "2026-11-23T04:00:00Z",
}


# Briefs --------------------------------------------------------------------------------------


def _date_argument(value: str, name: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise exceptions.ValidationError({name: ["Use a date as YYYY-MM-DD."]}) from None


class BriefFilter(django_filters.FilterSet):
    engagement = IdFilter(field_name="engagement_id", help_text="An engagement id.")
    date_from = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = django_filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = DailyBrief
        fields = ["engagement", "date_from", "date_to"]


@extend_schema_view(
    list=extend_schema(
        description="Issued daily briefs this token may see, every revision (a corrected brief "
        "has `revision` > 1 and `corrected` true). Filter by engagement and date range. Needs "
        "`reports:read`.",
        examples=[OpenApiExample("A brief", value=BRIEF_EXAMPLE, response_only=True)],
    ),
)
class BriefViewSet(mixins.ListModelMixin, TenantViewSet):
    serializer_class = BriefSummarySerializer
    filterset_class = BriefFilter
    required_scope = ApiScope.REPORTS_READ.value
    ordering_fields = ["id", "date", "created_at"]
    ordering = ["-date", "-id"]

    def get_queryset(self):
        return DailyBrief.objects.all()


class EngagementBriefMixin:
    """Resolves the engagement and the date of the URL, then the day's latest revision."""

    def url_objects_resolve(self) -> None:
        self.engagement = object_lookup(_engagement_get, engagement_id=self.kwargs["engagement_id"])
        self.date = _date_argument(self.kwargs["date"], "date")
        brief = (
            DailyBrief.objects.filter(engagement=self.engagement, date=self.date)
            .order_by("-revision")
            .first()
        )
        if brief is None:
            raise exceptions.NotFound("No brief has been issued for this engagement and date.")
        self.brief = brief


def _engagement_get(*, engagement_id: int) -> Engagement:
    return get_object_or_404(Engagement.objects.all(), pk=engagement_id)


DATE_PARAMETER = OpenApiParameter(
    "date",
    OpenApiTypes.DATE,
    OpenApiParameter.PATH,
    description="The day the brief is about (its data's date), as YYYY-MM-DD.",
)


class EngagementBriefView(EngagementBriefMixin, TenantAPIView):
    required_scope = ApiScope.REPORTS_READ.value
    serializer_class = BriefSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(
        operation_id="engagement_brief_read",
        description="The engagement's daily brief for a date, as structured JSON: its latest "
        "revision (a corrected one when the day's data changed after sending). Answers with "
        "ETag and Last-Modified; 404 when no brief was issued for that day yet (briefs go out "
        "at the agency's brief hour, for the day before). Needs `reports:read`.",
        parameters=[DATE_PARAMETER],
        responses={200: BriefSerializer, 304: None},
        examples=[OpenApiExample("A brief", value=BRIEF_EXAMPLE, response_only=True)],
    )
    def get(self, request, engagement_id: int, date: str):
        payload = BriefSerializer(self.brief).data
        return report_response(request, payload, last_modified=self.brief.created_at)


RENDER_FORMATS = ("html", "markdown", "text")


class RenderQuerySerializer(serializers.Serializer):
    render_as = serializers.ChoiceField(
        choices=RENDER_FORMATS,
        default="markdown",
        help_text="html: the e-mail's HTML document; markdown: the group-robot message (at most "
        "800 characters); text: the e-mail's plain text.",
    )


class RenderedBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    revision = serializers.IntegerField()
    corrected = serializers.BooleanField()
    format = serializers.ChoiceField(choices=RENDER_FORMATS)
    language = serializers.CharField(help_text="The language it is written in.")
    title = serializers.CharField()
    body = serializers.CharField()


RENDERED_EXAMPLE = {
    "id": 901,
    "date": "2026-11-26",
    "revision": 1,
    "corrected": False,
    "format": "markdown",
    "language": "zh-hans",
    "title": "数据日报：山野茶事 · 2026-11-26",
    "body": "### 数据日报：山野茶事 · 2026-11-26\n- 支付金额 ¥48,210.50（环比 +6.89%）\n...",
}


class EngagementBriefRenderedView(EngagementBriefMixin, TenantAPIView):
    required_scope = ApiScope.REPORTS_READ.value
    serializer_class = RenderedBriefSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(
        operation_id="engagement_brief_rendered",
        description="The same brief rendered as people read it: `render_as=markdown` (the "
        "WeChat Work / DingTalk robot message, at most 800 characters), `html` (the e-mail's "
        "HTML document) or `text` (the e-mail's plain text), in the language of the request's "
        "Accept-Language (zh-hans or en; the agency's language otherwise). ETag and "
        "Last-Modified as for the JSON. Needs `reports:read`.",
        parameters=[DATE_PARAMETER, RenderQuerySerializer],
        responses={200: RenderedBriefSerializer, 304: None},
        examples=[OpenApiExample("Markdown", value=RENDERED_EXAMPLE, response_only=True)],
    )
    def get(self, request, engagement_id: int, date: str):
        # A plain dict, not the QueryDict: DRF reads a blank form value as "not given", and a
        # blank `render_as=` is a mistake to name, not a request for the default.
        query = RenderQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        render_as = query.validated_data["render_as"]
        brief = self.brief
        language = (
            translation.get_language()
            if "HTTP_ACCEPT_LANGUAGE" in request.META
            else self.caller.agency.default_language
        )
        with translation.override(language):
            link = brief_link(brief)
            if render_as == "markdown":
                body = brief_render_markdown(brief.content, revision=brief.revision, link=link)
            else:
                _subject, text, html = brief_render_email(
                    brief.content, revision=brief.revision, link=link
                )
                body = html if render_as == "html" else text
            payload = {
                "id": brief.pk,
                "date": brief.date.isoformat(),
                "revision": brief.revision,
                "corrected": brief.is_correction,
                "format": render_as,
                "language": language,
                "title": brief_title(brief.content, revision=brief.revision),
                "body": body,
            }
        return report_response(request, payload, last_modified=brief.created_at)


# Reviews -------------------------------------------------------------------------------------


class ReviewFilter(django_filters.FilterSet):
    engagement = IdFilter(field_name="engagement_id", help_text="An engagement id.")
    kind = django_filters.ChoiceFilter(choices=ReviewKind.choices)
    period_from = django_filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_to = django_filters.DateFilter(field_name="period_end", lookup_expr="lte")

    class Meta:
        model = Review
        fields = ["engagement", "kind", "period_from", "period_to"]


@extend_schema_view(
    list=extend_schema(
        description="Published weekly and monthly reviews this token may see (drafts are not "
        "reports yet), newest period first. Filter by engagement, kind and period. Needs "
        "`reports:read`.",
        examples=[OpenApiExample("A weekly review", value=REVIEW_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        description="One published review: the staff's narrative, the period's figures and "
        "the action items with owner, due date and status. Answers with ETag and "
        "Last-Modified. Needs `reports:read`.",
        responses={200: ReviewSerializer, 304: None},
        examples=[OpenApiExample("A weekly review", value=REVIEW_EXAMPLE, response_only=True)],
    ),
)
class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    required_scope = ApiScope.REPORTS_READ.value
    ordering_fields = ["id", "period_start", "published_at"]
    ordering = ["-period_start", "-id"]
    lookup_value_converter = "int"

    def get_queryset(self):
        return Review.objects.filter(status=ReviewStatus.PUBLISHED).prefetch_related(
            "action_items__owner__user"
        )

    def retrieve(self, request, *args, **kwargs):
        review = self.get_object()
        payload = self.get_serializer(review).data
        return report_response(request, payload, last_modified=review.updated_at)


router = SimpleRouter(use_regex_path=False)
router.register("briefs", BriefViewSet, basename="brief")
router.register("reviews", ReviewViewSet, basename="review")

urlpatterns = [
    path("", include(router.urls)),
    path(
        "engagements/<int:engagement_id>/briefs/<str:date>/",
        EngagementBriefView.as_view(),
        name="engagement-brief",
    ),
    path(
        "engagements/<int:engagement_id>/briefs/<str:date>/rendered/",
        EngagementBriefRenderedView.as_view(),
        name="engagement-brief-rendered",
    ),
]
