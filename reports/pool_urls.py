from django.urls import path

from reports import workforce_views as views

app_name = "workforce"
urlpatterns = [
    path("returns/", views.returns_list, name="returns"),
    path("returns/providers/<int:provider_id>/chase/", views.return_chase, name="chase"),
    path("returns/living-wage/", views.living_wage, name="living_wage"),
    path("benchmarks/", views.benchmarks, name="benchmarks"),
    path("reports/", views.committee_reports, name="reports"),
    path("reports/<str:quarter>/", views.committee_report, name="report"),
    path("reports/<str:quarter>/print/", views.committee_print, name="report_print"),
    path("reports/<str:quarter>/report.pdf", views.committee_pdf, name="report_pdf"),
]
