from django.urls import path

from pools import views

app_name = "pools"
urlpatterns = [
    path("", views.board, name="board"),
    path("shifts/<int:pk>/", views.shift_detail, name="shift"),
    path("shifts/<int:pk>/offer/", views.shift_offer, name="shift_offer"),
    path("shifts/<int:pk>/widen/", views.shift_widen, name="shift_widen"),
    path("shifts/<int:pk>/critical/", views.shift_critical, name="shift_critical"),
    path("workers/", views.workers, name="workers"),
    path("workers/<int:pk>/", views.worker_detail, name="worker"),
    path("workers/<int:pk>/approve/", views.worker_approve, name="worker_approve"),
    path("workers/<int:pk>/suspend/", views.worker_suspend, name="worker_suspend"),
    path("workers/<int:pk>/left/", views.worker_left, name="worker_left"),
    path("workers/<int:pk>/opt-out/", views.worker_opt_out, name="worker_opt_out"),
    path("workers/<int:pk>/stage/", views.worker_stage, name="worker_stage"),
    path(
        "workers/<int:pk>/documents/<int:doc_pk>/review/",
        views.document_review,
        name="document_review",
    ),
    path("compliance/", views.compliance, name="compliance"),
    path("providers/", views.providers, name="providers"),
    path("providers/new/", views.provider_new, name="provider_new"),
    path("providers/<int:pk>/", views.provider_detail, name="provider"),
    path("settings/", views.pool_settings, name="settings"),
    path("audit/", views.audit, name="audit"),
]
