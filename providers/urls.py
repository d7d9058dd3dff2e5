from django.urls import path

from providers import views

app_name = "providers"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("shifts/new/", views.shift_new, name="shift_new"),
    path("shifts/copy-week/", views.week_copy, name="week_copy"),
    path("shifts/<int:pk>/save-template/", views.shift_template_save, name="template_save"),
    path("templates/<int:pk>/post/", views.shift_template_post, name="template_post"),
    path("templates/<int:pk>/delete/", views.shift_template_delete, name="template_delete"),
    path("shifts/<int:pk>/", views.shift_detail, name="shift_detail"),
    path("shifts/<int:pk>/live/", views.shift_live, name="shift_live"),
    path("shifts/<int:pk>/edit/", views.shift_edit, name="shift_edit"),
    path("shifts/<int:pk>/cancel/", views.shift_cancel, name="shift_cancel"),
    path("shifts/<int:pk>/outcome/", views.shift_outcome, name="shift_outcome"),
    path("bookings/<int:pk>/no-show/", views.booking_no_show, name="booking_no_show"),
    path("bookings/<int:pk>/attended/", views.booking_attended, name="booking_attended"),
    path("bookings/<int:pk>/timesheet/approve/", views.timesheet_approve, name="timesheet_approve"),
    path("bookings/<int:pk>/timesheet/correct/", views.timesheet_correct, name="timesheet_correct"),
    path("bookings/<int:pk>/rate/", views.booking_rate, name="booking_rate"),
    path("bookings/<int:pk>/favourite/", views.favourite_add, name="favourite_add"),
    path("bookings/<int:pk>/unfavourite/", views.favourite_remove, name="favourite_remove"),
    path("bookings/<int:pk>/block/", views.worker_block, name="worker_block"),
    path("favourites/", views.favourites, name="favourites"),
    path("favourites/<int:worker_pk>/remove/", views.favourite_delete, name="favourite_delete"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/remove/", views.member_remove, name="member_remove"),
]
