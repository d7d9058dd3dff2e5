from django.urls import path

from reports import workforce_views as views

app_name = "returns"
urlpatterns = [
    path("", views.returns_home, name="home"),
    path("<str:quarter>/", views.return_edit, name="edit"),
    path("<str:quarter>/template.csv", views.return_template, name="template"),
    path("<str:quarter>/upload/", views.return_upload, name="upload"),
]
