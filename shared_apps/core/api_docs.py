"""The API's documentation pages (Swagger UI, ReDoc), served from our own static files under the strict CSP.

Neither page runs inline code: Swagger UI's init script is a separate same-origin request (drf-spectacular's
split view) and ReDoc starts from a static file. ReDoc writes its styles into <style> elements at run time,
which the policy lets in with the response's nonce; its search runs in a worker built from a blob.
"""

from django.conf import settings
from django.utils.csp import CSP
from django.utils.decorators import method_decorator
from django.views.decorators.csp import csp_override
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView


class SwaggerDocsView(SpectacularSwaggerSplitView):
    template_name = "api_docs/swagger_ui.html"


@method_decorator(csp_override({**settings.SECURE_CSP, "worker-src": [CSP.SELF, "blob:"]}), name="dispatch")
class RedocDocsView(SpectacularRedocView):
    template_name = "api_docs/redoc.html"
