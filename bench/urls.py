"""The portal's URLs plus `/<agency_slug>/hello/`, the trivial view the dashboard's latency is
divided by: the same server, settings and middleware as any tenant page (session,
authentication, language, `TenantMiddleware` resolving the agency and the membership), and a
view that does nothing else (a few bytes of plain text: no template, no query of its own).
Bench-only (bench/settings.py): the product's URLconf never includes it."""

from django.http import HttpResponse
from django.urls import include, path


def hello(request):
    return HttpResponse(b"hello", content_type="text/plain")


urlpatterns = [
    path("<slug:agency_slug>/hello/", hello, name="bench_hello"),
    path("", include("agency.urls")),
]
