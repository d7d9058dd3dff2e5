from django.urls import path

from reports.api import StatsSummaryApi

urlpatterns = [
    path("stats/summary/", StatsSummaryApi.as_view(), name="stats-summary"),
]
