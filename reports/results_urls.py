from django.urls import path

from reports import provider_views

app_name = "provider_reports"
urlpatterns = [path("", provider_views.results, name="results")]
