"""URLs of the platform host (public schema): the platform page, its admin and the platform API."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from shared_apps.accounts.urls import platform_urlpatterns as account_urls
from shared_apps.core import views as core_views
from shared_apps.core.api_docs import RedocDocsView, SwaggerDocsView
from shared_apps.core.urls import media_urlpatterns
from tenants import domain_views
from tenants.views import PlatformHomeView

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(urlconf="config.urls_public"), name="schema"),
    path("api/docs/", SwaggerDocsView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", RedocDocsView.as_view(url_name="schema"), name="redoc"),
    path("api/platform/", include("tenants.urls")),
    path("api/", include(account_urls)),
    # Providers' webhooks, each verified: Twilio's (RequestValidator) and the ESP's tracking (Anymail's secret).
    path("webhooks/twilio/", include("shared_apps.messaging.urls")),
    path("webhooks/anymail/", include("anymail.urls")),
    # Platform admins log in (the admin's login leads here), set up and use two-factor authentication;
    # nobody signs up to the platform.
    path("accounts/signup/", core_views.not_found),
    path("accounts/", include("allauth.urls")),
    path("platform/", include("tenants.platform_urls")),
    *domain_views.public_urlpatterns,
    path("", PlatformHomeView.as_view(), name="platform-home"),
]

urlpatterns += media_urlpatterns()

handler400 = "shared_apps.core.views.bad_request"
handler404 = "shared_apps.core.views.not_found"
handler500 = "shared_apps.core.views.server_error"
