from django.urls import path

from lab import views

app_name = "lab"
urlpatterns = [
    path("", views.lab_index, name="index"),
    path("runs/<int:pk>/", views.lab_run, name="run"),
    path("runs/<int:pk>/moves.csv", views.lab_run_csv, name="run_csv"),
]
