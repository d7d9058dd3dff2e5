from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("breakdown/", views.dashboard_breakdown, name="dashboard_breakdown"),
    path("demand/", views.dashboard_demand, name="dashboard_demand"),
    path("conduct/", views.dashboard_conduct, name="dashboard_conduct"),
    path("health/", views.dashboard_health, name="dashboard_health"),
    path("region/", views.region, name="region"),
]
