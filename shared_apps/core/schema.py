"""The OpenAPI schema tells the truth, so generated clients work: every error an operation can answer is documented
with the one error shape, lists the views page by hand are documented as pages, and FilterSets named in
``@extend_schema(parameters=[...])`` become their query parameters.
"""

from django_filters import FilterSet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers
from rest_framework.parsers import FileUploadParser, MultiPartParser
from rest_framework.permissions import AllowAny

from shared_apps.core.pagination import PageNumberPagination


@extend_schema_serializer(component_name="ErrorResponse")
class ErrorResponseSerializer(serializers.Serializer):
    """The body of every API error (shared_apps.core.exceptions)."""

    code = serializers.CharField(help_text="Stable, machine-readable reason, e.g. `invalid`, `slot_unavailable`.")
    detail = serializers.CharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Per input field, its messages (nested for nested input); empty when the error is not a field's.",
    )


ERROR_DESCRIPTIONS = {
    400: "The input is invalid.",
    401: "No valid credentials.",
    403: "The caller may not do this.",
    404: "No such object for this caller (or no such page of the list).",
    409: "The request conflicts with the current state (e.g. the slot was just taken).",
    413: "The upload is too large.",
    415: "The request body is not in a format this operation reads.",
    429: "Too many requests; try again later.",
}

BODY_METHODS = {"POST", "PUT", "PATCH"}

# Where a service can raise Conflict (a lost race, a state that no longer allows the change):
# @extend_schema(responses={200: X, 409: CONFLICT}).
CONFLICT = OpenApiResponse(ErrorResponseSerializer, description=ERROR_DESCRIPTIONS[409])


def paginated(serializer_class: type[serializers.Serializer]) -> serializers.ListSerializer:
    """The response of a list a view pages by hand with PageNumberPagination: use as ``responses=paginated(X)``.

    The schema becomes ``{count, next, previous, results: [X]}`` (the paginator's own
    get_paginated_response_schema) and the operation gains its ``page`` and ``page_size`` parameters.
    """
    serializer = serializer_class(many=True)
    serializer.paginated_by = PageNumberPagination
    return serializer


class SessionSchemeOfSubclasses(SessionScheme):
    """Our session authentication subclasses DRF's (drf-spectacular's own extension matches only DRF's class)."""

    match_subclasses = True
    priority = 0


def _is_filterset(parameter) -> bool:
    return isinstance(parameter, type) and issubclass(parameter, FilterSet)


class AutoSchema(SpectacularAutoSchema):
    def _main_response_serializer(self):
        response = self.get_response_serializers()
        if isinstance(response, dict):
            response = {str(code): value for code, value in response.items()}
            response = response.get("200")
        return response

    def _get_paginator(self):
        pagination_class = getattr(self._main_response_serializer(), "paginated_by", None)
        if pagination_class is not None:
            return pagination_class()
        return super()._get_paginator()

    # -- FilterSets as query parameters -----------------------------------------------------------------

    def _filtersets(self) -> list[type[FilterSet]]:
        return [parameter for parameter in self.get_override_parameters() if _is_filterset(parameter)]

    def _process_override_parameters(self, direction="request"):
        # @extend_schema adds its parameters in a subclass, so the FilterSets are taken out here, not there.
        everything = self.get_override_parameters
        self.get_override_parameters = lambda: [parameter for parameter in everything() if not _is_filterset(parameter)]
        try:
            return super()._process_override_parameters(direction)
        finally:
            del self.get_override_parameters

    def _get_filter_parameters(self):
        parameters = list(super()._get_filter_parameters())
        extension = DjangoFilterExtension(DjangoFilterBackend())
        for filterset_class in self._filtersets():
            model = filterset_class._meta.model
            for name, filter_field in filterset_class.base_filters.items():
                parameters += extension.resolve_filter_field(self, model, filterset_class, name, filter_field)
        return parameters

    # -- errors ---------------------------------------------------------------------------------------------

    def _error_statuses(self) -> set[int]:
        view = self.view
        statuses: set[int] = set()
        has_body = self.method in BODY_METHODS and self.get_request_serializer() is not None
        has_query = bool(self._get_filter_parameters() or self._get_pagination_parameters())
        if has_body or has_query or self.get_override_parameters():
            statuses.add(400)
        if has_body:
            statuses.add(415)
        if view.get_authenticators():
            # A wrong or expired token is refused even where anyone may call.
            statuses.add(401)
        if not all(isinstance(permission, AllowAny) for permission in view.get_permissions()):
            statuses.add(403)
        if "{" in self.path or self._get_pagination_parameters():
            statuses.add(404)
        if view.get_throttles():
            statuses.add(429)
        if any(isinstance(parser, MultiPartParser | FileUploadParser) for parser in view.get_parsers()):
            statuses.add(413)
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        error = self.resolve_serializer(ErrorResponseSerializer, "response")
        for status in sorted(self._error_statuses()):
            responses.setdefault(
                str(status),
                {
                    "content": {"application/json": {"schema": error.ref}},
                    "description": ERROR_DESCRIPTIONS[status],
                },
            )
        return responses
