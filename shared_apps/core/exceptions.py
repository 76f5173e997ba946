"""One error type for domain code and one JSON shape for every API error: {"code", "detail", "fields"}."""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ApplicationError(Exception):
    """Raised by services and selectors; the API turns it into an error response with a stable code."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"
    message = "The request could not be processed."

    def __init__(self, message: str | None = None, *, fields: dict | None = None, extra: dict | None = None):
        self.message = message or self.message
        self.fields = fields or {}
        # More to say than the common shape holds (e.g. an import's per-row errors), added beside it.
        self.extra = extra or {}
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    code = "invalid"
    message = "Invalid input."


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"
    message = "Not found."


class Forbidden(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"
    message = "You do not have permission to perform this action."


class Conflict(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"
    message = "The request conflicts with the current state."


def error_body(code: str, detail: str, fields: dict | None = None) -> dict:
    return {"code": code, "detail": detail, "fields": fields or {}}


def request_refusal(exc) -> tuple[int, dict] | None:
    """Status and body for a request Django itself refused while reading it; None for anything else.

    Django raises these when ``request.body`` or ``request.POST`` is first read, which can happen in a view,
    a middleware or an authentication class: both the API's exception handler and ``handler400`` answer them.
    """
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        detail = f"The request body is too large (at most {limit // 1024} KB besides uploaded files)."
        return status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, error_body("too_large", detail)
    if isinstance(exc, TooManyFieldsSent):
        detail = f"Too many form fields (at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})."
        return status.HTTP_400_BAD_REQUEST, error_body("too_many_fields", detail)
    if isinstance(exc, TooManyFilesSent):
        detail = f"Too many files (at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES})."
        return status.HTTP_400_BAD_REQUEST, error_body("too_many_files", detail)
    return None


def _messages(detail) -> list[str] | dict:
    if isinstance(detail, dict):
        return {key: _messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        if any(isinstance(item, dict) for item in detail):
            return [_messages(item) for item in detail]
        return [str(item) for item in detail]
    return [str(detail)]


def _validation_response(detail) -> tuple[str, dict]:
    if isinstance(detail, dict):
        fields = _messages(detail)
        general = fields.pop("non_field_errors", None)
        if general:
            return general[0], fields
        return "Invalid input.", fields
    messages = _messages(detail)
    return (messages[0] if messages else "Invalid input."), {}


def exception_handler(exc, context):
    refusal = request_refusal(exc)
    if refusal is not None:
        status_code, body = refusal
        return Response(body, status=status_code)
    if isinstance(exc, ApplicationError):
        return Response({**exc.extra, **error_body(exc.code, exc.message, exc.fields)}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail, fields = _validation_response(exc.detail)
        response.data = error_body("invalid", detail, fields)
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        # A parser may name the fields it refused (parsers.InvalidBody).
        response.data = error_body(code, str(exc.detail), getattr(exc, "fields", None))
    return response


def full_clean_or_fail(instance, **kwargs) -> None:
    """Run the model's own validation; its errors come back as a 400 with field errors."""
    try:
        instance.full_clean(**kwargs)
    except DjangoValidationError as error:
        raise ValidationFailed(fields=error.message_dict) from error
