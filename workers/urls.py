from django.urls import path

from workers import views

app_name = "workers"
urlpatterns = [
    path("offers/", views.offers, name="offers"),
    path("apply/", views.apply, name="apply"),
]
