from django.urls import path

from notifications import views as notification_views
from workers import views

app_name = "workers"
urlpatterns = [
    path("apply/", views.apply, name="apply"),
    path("account/", views.account, name="account"),
    path("profile/", views.profile, name="profile"),
    path("profile/opt-out/withdraw/", views.opt_out_withdraw, name="opt_out_withdraw"),
    path("documents/", views.documents, name="documents"),
    path("documents/<int:pk>/file/", views.document_file, name="document_file"),
    path("availability/", views.availability, name="availability"),
    path("offers/", views.offers, name="offers"),
    path("offers/<int:pk>/", views.offer_detail, name="offer"),
    path("offers/<int:pk>/accept/", views.offer_accept, name="offer_accept"),
    path("offers/<int:pk>/decline/", views.offer_decline, name="offer_decline"),
    path("shifts/", views.shifts, name="shifts"),
    path("shifts/<int:pk>/", views.shift, name="shift"),
    path("shifts/<int:pk>/confirm/", views.shift_confirm, name="shift_confirm"),
    path("shifts/<int:pk>/clock-in/", views.shift_clock_in, name="shift_clock_in"),
    path("shifts/<int:pk>/clock-out/", views.shift_clock_out, name="shift_clock_out"),
    path("shifts/<int:pk>/cancel/", views.shift_cancel, name="shift_cancel"),
    path("calendar/", views.calendar_manage, name="calendar_manage"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("record/", views.record, name="record"),
    path("messages/", views.messages_list, name="messages"),
    path("notifications/", views.notification_settings, name="notifications"),
    path("notifications/push/subscribe/", notification_views.push_subscribe, name="push_subscribe"),
    path(
        "notifications/push/unsubscribe/",
        notification_views.push_unsubscribe,
        name="push_unsubscribe",
    ),
    path("leave/", views.leave, name="leave"),
    path("left/", views.left, name="left"),
]
