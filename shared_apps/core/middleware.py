from django.http import JsonResponse
from django.middleware.common import CommonMiddleware

from shared_apps.core.exceptions import error_body

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ApiTrailingSlashMiddleware:
    """A write to an API path that lacks its trailing slash is a 404 saying so, in the API's error shape.

    CommonMiddleware would answer it with a redirect (APPEND_SLASH), and a client following a redirect
    repeats the request as a GET without its body: the write would be lost without a word. Reads keep
    the redirect. Placed before CommonMiddleware and after the tenant middleware, which picks the URLconf.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.common = CommonMiddleware(get_response)

    def __call__(self, request):
        if (
            request.method in _WRITE_METHODS
            and request.path_info.startswith("/api/")
            and self.common.should_redirect_with_slash(request)
        ):
            detail = f"This address ends with a slash: {request.path}/"
            return JsonResponse(error_body("trailing_slash_required", detail), status=404)
        return self.get_response(request)
