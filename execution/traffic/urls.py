"""Step 4, traffic: campaigns with budget burn from the ad facts, the event calendar, keywords.

Object URLs carry one object argument each (besides the engagement), so every object is found
through its engagement: a creative's URL names the creative, not its campaign too."""

from django.urls import path

from execution.traffic import views

app_name = "traffic"

ENGAGEMENT = "engagements/<int:engagement_id>/traffic/"

urlpatterns = [
    # The agency's platform event calendar.
    path("calendar/", views.agency_calendar, name="calendar"),
    path("calendar/events/new/", views.event_create, name="event_create"),
    path("calendar/events/usual/", views.events_seed, name="events_seed"),
    path("calendar/events/<int:traffic_event_id>/edit/", views.event_edit, name="event_edit"),
    path("calendar/events/<int:traffic_event_id>/delete/", views.event_delete, name="event_delete"),
    # An engagement's campaigns.
    path(ENGAGEMENT, views.campaign_list, name="campaigns"),
    path(ENGAGEMENT + "campaigns/new/", views.campaign_create, name="campaign_create"),
    path(
        ENGAGEMENT + "campaigns/<int:traffic_campaign_id>/",
        views.campaign_detail,
        name="campaign_detail",
    ),
    path(
        ENGAGEMENT + "campaigns/<int:traffic_campaign_id>/edit/",
        views.campaign_edit,
        name="campaign_edit",
    ),
    path(
        ENGAGEMENT + "campaigns/<int:traffic_campaign_id>/delete/",
        views.campaign_delete,
        name="campaign_delete",
    ),
    path(
        ENGAGEMENT + "campaigns/<int:traffic_campaign_id>/creatives/",
        views.creative_upload,
        name="creative_upload",
    ),
    path(
        ENGAGEMENT + "creatives/<int:traffic_creative_id>/",
        views.creative_download,
        name="creative_download",
    ),
    path(
        ENGAGEMENT + "creatives/<int:traffic_creative_id>/delete/",
        views.creative_delete,
        name="creative_delete",
    ),
    path(ENGAGEMENT + "calendar/", views.engagement_calendar, name="engagement_calendar"),
    # Search keywords and their ranks.
    path(ENGAGEMENT + "keywords/", views.keyword_list, name="keywords"),
    path(ENGAGEMENT + "keywords/new/", views.keyword_create, name="keyword_create"),
    path(ENGAGEMENT + "keywords/ranks/", views.ranks_record, name="ranks_record"),
    path(ENGAGEMENT + "keywords/ranks/upload/", views.ranks_upload, name="ranks_upload"),
    path(
        ENGAGEMENT + "keywords/<int:traffic_keyword_id>/",
        views.keyword_detail,
        name="keyword_detail",
    ),
    path(
        ENGAGEMENT + "keywords/<int:traffic_keyword_id>/edit/",
        views.keyword_edit,
        name="keyword_edit",
    ),
    path(
        ENGAGEMENT + "keywords/<int:traffic_keyword_id>/delete/",
        views.keyword_delete,
        name="keyword_delete",
    ),
]
