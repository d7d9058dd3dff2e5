from django.urls import path

from shifts import api

urlpatterns = [
    path("roles/", api.RoleListApi.as_view(), name="api-roles"),
    path("skills/", api.SkillListApi.as_view(), name="api-skills"),
    path("sites/", api.SiteListApi.as_view(), name="api-sites"),
    path("shifts/", api.ShiftListCreateApi.as_view(), name="api-shifts"),
    path("shifts/<int:shift_id>/", api.ShiftDetailApi.as_view(), name="api-shift"),
    path("shifts/<int:shift_id>/cancel/", api.ShiftCancelApi.as_view(), name="api-shift-cancel"),
    path("offers/", api.OfferListApi.as_view(), name="api-offers"),
    path("offers/<int:offer_id>/accept/", api.OfferAcceptApi.as_view(), name="api-offer-accept"),
    path("offers/<int:offer_id>/decline/", api.OfferDeclineApi.as_view(), name="api-offer-decline"),
    path("bookings/", api.BookingListApi.as_view(), name="api-bookings"),
    path(
        "bookings/<int:booking_id>/cancel/",
        api.BookingCancelApi.as_view(),
        name="api-booking-cancel",
    ),
]
