"""URLs of a studio's host."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from shared_apps.core import views as core_views
from shared_apps.core.api_docs import RedocDocsView, SwaggerDocsView
from shared_apps.core.urls import media_urlpatterns
from tenants import studio_api

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_tenant"), name="schema"),
    path("api/docs/", SwaggerDocsView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocDocsView.as_view(url_name="schema"), name="redoc"),
    path("api/studio/", studio_api.StudioSettingsApi.as_view(), name="studio-settings"),
    path("api/studio/logo/", studio_api.StudioLogoApi.as_view(), name="studio-logo"),
    path("api/", include("shared_apps.accounts.urls")),
    path("api/", include("tenant_apps.trainers.urls")),
    path("api/", include("tenant_apps.availability.urls")),
    path("api/", include("tenant_apps.clients.urls")),
    path("api/", include("tenant_apps.packages.urls")),
    path("api/", include("tenant_apps.bookings.urls")),
    # The outbox's API and the trainers' private calendar feeds.
    path("", include("tenant_apps.notifications.urls")),
    path("", include("tenant_apps.notifications.feed_urls")),
    path("accounts/", include("allauth.urls")),
    path("desk/", include("tenant_apps.desk.urls")),
    path("", include("tenant_apps.site.urls")),
]

urlpatterns += media_urlpatterns()

handler400 = "shared_apps.core.views.bad_request"
handler404 = "shared_apps.core.views.not_found"
handler500 = "shared_apps.core.views.server_error"
