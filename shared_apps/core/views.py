from django.db import connection
from django.db.utils import DatabaseError
from django.http import JsonResponse

from shared_apps.core.exceptions import error_body


def healthz(request):
    """200 when the database answers, 503 when it doesn't; no authentication, nothing else revealed."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def api_not_found(request, exception=None):
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def api_server_error(request):
    return JsonResponse(error_body("server_error", "Something went wrong on our side."), status=500)


def not_found(request, exception=None):
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return page_not_found(request, exception)


def server_error(request):
    from django.views.defaults import server_error as html_server_error

    if request.path.startswith("/api/"):
        return api_server_error(request)
    return html_server_error(request)
