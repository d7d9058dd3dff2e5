from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from flexpool import views, views_metrics
from notifications import views as notification_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views_metrics.metrics, name="metrics"),
    path("notify/inbound-sms/", notification_views.notify_inbound_sms, name="notify_inbound_sms"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's script is served as a file (the split view); its React styles are
    # inline, so this developer page alone allows inline style.
    path(
        "api/docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path("api/v1/", include("flexpool.api_urls")),
    path("provider/returns/", include("reports.provider_urls")),
    path("provider/results/", include("reports.results_urls")),
    path("provider/", include("providers.urls")),
    path("worker/", include("workers.urls")),
    path("pool/dashboard/", include("reports.urls")),
    path("pool/", include("reports.pool_urls")),
    path("pool/deliveries/", notification_views.delivery_failures, name="delivery_failures"),
    path("pool/lab/", include("lab.urls")),
    path("pool/", include("pools.urls")),
    path("", include("workers.pwa_urls")),
]

handler500 = "flexpool.outages.server_error"
