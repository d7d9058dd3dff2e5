from django.urls import path

from reports.api import StatsSummaryApi, StatsWorkforceApi

urlpatterns = [
    path("stats/summary/", StatsSummaryApi.as_view(), name="stats-summary"),
    path("stats/workforce/", StatsWorkforceApi.as_view(), name="stats-workforce"),
]
