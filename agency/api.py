"""REST endpoints of the tenancy app: the brands and stores a token may see (read only).

Brands and stores are readable with any scope: every integration needs their ids.
"""

import django_filters
from django.urls import include, path
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.routers import SimpleRouter

from agency.models import Brand, Store, StoreSituation
from agency.rest import IdFilter, TenantViewSet


class BrandSerializer(serializers.ModelSerializer):
    stores = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Brand
        fields = ["id", "name", "stores", "created_at"]


class StoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = ["id", "brand", "name", "shop_id", "url", "situation", "connector", "created_at"]


class BrandFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the name.")

    class Meta:
        model = Brand
        fields = ["name"]


class StoreFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Part of the name.")
    brand = IdFilter(field_name="brand_id", help_text="A brand id.")
    shop_id = django_filters.CharFilter(help_text="The Tmall shop id, exactly.")
    situation = django_filters.ChoiceFilter(choices=StoreSituation.choices)

    class Meta:
        model = Store
        fields = ["name", "brand", "shop_id", "situation"]


BRAND_EXAMPLE = {"id": 7, "name": "山野茶事", "stores": [12], "created_at": "2026-03-02T09:30:00Z"}
STORE_EXAMPLE = {
    "id": 12,
    "brand": 7,
    "name": "山野茶事旗舰店",
    "shop_id": "61234567",
    "url": "https://shanye.tmall.com",
    "situation": "existing",
    "connector": "",
    "created_at": "2026-03-02T09:31:00Z",
}


@extend_schema_view(
    list=extend_schema(
        description="The brands this token may see: all of the agency's, or the one brand a "
        "brand-restricted token is bound to. Any scope may read them.",
        examples=[OpenApiExample("A brand", value=BRAND_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        description="One brand, with the ids of its stores.",
        examples=[OpenApiExample("A brand", value=BRAND_EXAMPLE, response_only=True)],
    ),
)
class BrandViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    serializer_class = BrandSerializer
    filterset_class = BrandFilter
    ordering_fields = ["id", "name", "created_at"]
    ordering = ["name"]
    lookup_value_converter = "int"

    def get_queryset(self):
        return Brand.objects.prefetch_related("stores")


@extend_schema_view(
    list=extend_schema(
        description="The Tmall stores this token may see; filter by brand, shop id or name.",
        examples=[OpenApiExample("A store", value=STORE_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        description="One store. Its id is what the metrics and ingestion endpoints take.",
        examples=[OpenApiExample("A store", value=STORE_EXAMPLE, response_only=True)],
    ),
)
class StoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantViewSet):
    serializer_class = StoreSerializer
    filterset_class = StoreFilter
    ordering_fields = ["id", "name", "created_at"]
    ordering = ["id"]
    lookup_value_converter = "int"

    def get_queryset(self):
        return Store.objects.all()


router = SimpleRouter(use_regex_path=False)
router.register("brands", BrandViewSet, basename="brand")
router.register("stores", StoreViewSet, basename="store")

urlpatterns = [path("", include(router.urls))]
