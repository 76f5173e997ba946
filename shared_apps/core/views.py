from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_safe

from shared_apps.core.exceptions import error_body, request_refusal


def healthz(request):
    """200 when the database answers, 503 when it doesn't; no authentication, nothing else revealed."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@require_safe
def favicon(request):
    """Browsers ask every host for /favicon.ico, pages or not (the admin, the API docs); there is no icon yet
    (a studio's pages name their logo), and "no content" is an answer, where a 404 is an error in the console."""
    response = HttpResponse(status=204)
    response["Cache-Control"] = "public, max-age=86400"
    return response


def api_not_found(request, exception=None):
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def api_server_error(request):
    return JsonResponse(error_body("server_error", "Something went wrong on our side."), status=500)


def not_found(request, exception=None):
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return page_not_found(request, exception)


def bad_request(request, exception=None):
    """Django's own refusals (a body over the upload limit, too many form fields or files) on API paths
    answer in the API's error shape; pages keep Django's page."""
    from django.views.defaults import bad_request as html_bad_request

    if not request.path.startswith("/api/"):
        return html_bad_request(request, exception)
    status_code, body = request_refusal(exception) or (400, error_body("bad_request", "The request can't be read."))
    return JsonResponse(body, status=status_code)


def server_error(request):
    from django.views.defaults import server_error as html_server_error

    if request.path.startswith("/api/"):
        return api_server_error(request)
    return html_server_error(request)
