"""Two-factor sign-in pages, under /accounts/ beside the other account pages (agency/urls.py
includes this module; agency/two_factor.py's middleware names these routes)."""

from django.urls import path

from agency import views_two_factor

urlpatterns = [
    path("two-factor/", views_two_factor.two_factor, name="two_factor"),
    path("two-factor/verify/", views_two_factor.two_factor_verify, name="two_factor_verify"),
]
