from django.conf import settings
from django.urls import re_path
from django.views.static import serve


def media_urlpatterns() -> list:
    """Uploaded files served by Django itself (SERVE_MEDIA, on one machine). django.conf.urls.static.static()
    would do it only with DEBUG on, and `make run` serves with DEBUG off."""
    if not settings.SERVE_MEDIA:
        return []
    prefix = settings.MEDIA_URL.lstrip("/")
    return [re_path(rf"^{prefix}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
