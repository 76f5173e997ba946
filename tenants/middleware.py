from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django.http.request import split_domain_port
from django.middleware.csp import get_nonce
from django.template.loader import render_to_string
from django.urls import set_urlconf
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import remove_www

from shared_apps.core.exceptions import error_body
from tenants.domains import VERIFY_PATH_PREFIX, pending_domain_token
from tenants.selectors import normalise_host, studio_for_host


def _wants_json(request) -> bool:
    return (
        request.path.startswith("/api/")
        or request.path == "/healthz"
        or "application/json" in request.headers.get("Accept", "")
    )


def _refusal(request, *, status: int, code: str, detail: str, template: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body(code, detail), status=status)
    # The CSP middleware ran before this one: its nonce lets the page's own <style> in.
    context = {"detail": detail, "csp_nonce": get_nonce(request)}
    return HttpResponse(render_to_string(template, context), status=status)


class StudioMiddleware(TenantMainMiddleware):
    """Host → schema. Platform hosts need no lookup; a studio host is looked up once and then cached.

    Unknown hosts get a 404 that says nothing about which studios exist; a suspended studio's host answers
    403 to every request, its data untouched.
    """

    @staticmethod
    def hostname_from_request(request) -> str:
        """The request's host without port, lower-case and without a trailing dot; ``www.`` is dropped as
        django-tenants does. Raises DisallowedHost for a host that is not allowed or not a host name at all."""
        # Lower-cased, and one trailing dot (the fully qualified form) removed; what is left must end in a label.
        domain, _port = split_domain_port(request.get_host())
        if not domain or domain.endswith(".") or ".." in domain:
            raise DisallowedHost("Invalid host")
        return remove_www(domain)

    def process_request(self, request):
        connection.set_schema_to_public()
        try:
            host = self.hostname_from_request(request)
        except DisallowedHost:
            return self._unknown_host(request)

        if host in {remove_www(normalise_host(platform_host)) for platform_host in settings.PLATFORM_HOSTS}:
            request.tenant = connection.tenant
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            set_urlconf(request.urlconf)
            return None

        try:
            studio = studio_for_host(host=host)
        except DatabaseError:
            # Without the database nothing can be served; say so plainly (health checks read 503).
            return _refusal(
                request,
                status=503,
                code="unavailable",
                detail="The service is temporarily unavailable.",
                template="tenants/unavailable.html",
            )
        if studio is None:
            return self._verification_answer(request, host) or self._unknown_host(request)
        if not studio.is_active:
            return _refusal(
                request,
                status=403,
                code="studio_suspended",
                detail="This site is currently unavailable.",
                template="tenants/suspended.html",
            )
        studio.domain_url = host
        request.tenant = studio
        connection.set_tenant(studio)
        return None

    @staticmethod
    def _verification_answer(request, host: str) -> HttpResponse | None:
        """A pending custom domain answers its own token at the well-known path, and nothing else: that is how
        the platform sees the domain points here (tenants.domains.custom_domain_verify)."""
        if request.method not in ("GET", "HEAD") or not request.path.startswith(VERIFY_PATH_PREFIX):
            return None
        try:
            token = pending_domain_token(host=host, token=request.path.removeprefix(VERIFY_PATH_PREFIX))
        except DatabaseError:
            return None
        if token is None:
            return None
        return HttpResponse(token, content_type="text/plain; charset=utf-8")

    @staticmethod
    def _unknown_host(request) -> HttpResponse:
        return _refusal(
            request,
            status=404,
            code="not_found",
            detail="There is no site at this address.",
            template="tenants/unknown_host.html",
        )
