from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.fields import PhoneNumberField, StrictPrimaryKeyRelatedField
from shared_apps.core.pagination import PageNumberPagination
from shared_apps.core.permissions import IsStudioMember, IsStudioStaff
from shared_apps.core.schema import ErrorResponseSerializer, paginated
from shared_apps.core.validators import (
    GOAL_MAX_LENGTH,
    GOALS_MAX_COUNT,
    NOTE_MAX_LENGTH,
    PERSON_NAME_MAX_LENGTH,
    TAG_MAX_LENGTH,
    TAGS_MAX_COUNT,
    TEXT_MAX_LENGTH,
    validate_free_json,
    validate_name,
)
from tenant_apps.clients import selectors, services
from tenant_apps.clients.filters import ClientFilter
from tenant_apps.clients.models import Client, ClientImport, ClientNote, FitnessLevel
from tenant_apps.trainers.models import Trainer

IMPORT_MAX_BYTES = 10 * 1024 * 1024


class ClientOutput(serializers.ModelSerializer):
    user = serializers.IntegerField(source="user_id", allow_null=True)
    primary_trainer = serializers.IntegerField(source="primary_trainer_id", allow_null=True)
    primary_trainer_name = serializers.CharField(source="primary_trainer.display_name", allow_null=True)

    class Meta:
        model = Client
        fields = [
            "id", "email", "first_name", "last_name", "phone", "fitness_level", "goals", "preferences",
            "primary_trainer", "primary_trainer_name", "notes", "tags", "user", "is_active", "erased_at", "created",
            "updated",
        ]  # fmt: skip


class ClientInput(serializers.Serializer):
    email = serializers.EmailField()
    first_name = serializers.CharField(max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name])
    last_name = serializers.CharField(
        max_length=PERSON_NAME_MAX_LENGTH, required=False, allow_blank=True, validators=[validate_name]
    )
    phone = PhoneNumberField(required=False, allow_blank=True)
    fitness_level = serializers.ChoiceField(choices=FitnessLevel.choices, required=False, allow_blank=True)
    goals = serializers.ListField(
        child=serializers.CharField(max_length=GOAL_MAX_LENGTH),
        required=False,
        max_length=GOALS_MAX_COUNT,
        validators=[validate_free_json],
    )
    preferences = serializers.DictField(required=False, validators=[validate_free_json])
    primary_trainer = StrictPrimaryKeyRelatedField(queryset=Trainer.objects.all(), required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=TAG_MAX_LENGTH), required=False, max_length=TAGS_MAX_COUNT
    )
    is_active = serializers.BooleanField(required=False)


def _get(request, client_id: int) -> Client:
    """A client the caller may see; any other id, another studio's included, is a 404."""
    return get_object_or_404(selectors.client_list(user=request.user), pk=client_id)


class MayCreateClients(IsStudioMember):
    """Adding a client: the service's rule (``services.may_create_clients``, the desk asks it too), checked before
    the body is read."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and services.may_create_clients(request.user)


class MayChangeClients(IsStudioMember):
    """Editing, deactivating, importing and exporting clients: the service's rule (``services.may_change_clients``,
    the desk asks it too)."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and services.may_change_clients(request.user)


class MayEraseClients(IsStudioMember):
    """Erasing a client's personal data: the service's rule (``services.may_erase_clients``, the desk asks it too)."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and services.may_erase_clients(request.user)


class ClientListCreateApi(APIView):
    def get_permissions(self):
        return [MayCreateClients()] if self.request.method == "POST" else [IsStudioStaff()]

    @extend_schema(parameters=[ClientFilter], responses=paginated(ClientOutput))
    def get(self, request):
        clients = ClientFilter(request.query_params, queryset=selectors.client_list(user=request.user))
        if not clients.is_valid():
            raise serializers.ValidationError(clients.errors)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(clients.qs, request, view=self)
        return paginator.get_paginated_response(ClientOutput(page, many=True).data)

    @extend_schema(request=ClientInput, responses={201: ClientOutput})
    def post(self, request):
        data = ClientInput(data=request.data)
        data.is_valid(raise_exception=True)
        client = services.client_create(actor=request.user, **data.validated_data)
        return Response(ClientOutput(client).data, status=status.HTTP_201_CREATED)


class ClientDetailApi(APIView):
    def get_permissions(self):
        return [IsStudioStaff()] if self.request.method == "GET" else [MayChangeClients()]

    @extend_schema(responses=ClientOutput)
    def get(self, request, client_id: int):
        return Response(ClientOutput(_get(request, client_id)).data)

    @extend_schema(request=ClientInput, responses=ClientOutput)
    def patch(self, request, client_id: int):
        client = _get(request, client_id)
        data = ClientInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(ClientOutput(services.client_update(client=client, **data.validated_data)).data)

    @extend_schema(responses={200: ClientOutput})
    def delete(self, request, client_id: int):
        """Deactivates the client; bookings and history stay."""
        return Response(ClientOutput(services.client_deactivate(client=_get(request, client_id))).data)


class ClientEraseApi(APIView):
    permission_classes = [MayEraseClients]

    @extend_schema(request=None, responses=ClientOutput)
    def post(self, request, client_id: int):
        return Response(ClientOutput(services.client_erase(client=_get(request, client_id))).data)


class NoteOutput(serializers.ModelSerializer):
    author = serializers.IntegerField(source="author_id", allow_null=True)
    author_name = serializers.CharField(source="author.get_full_name", allow_null=True)

    class Meta:
        model = ClientNote
        fields = ["id", "author", "author_name", "text", "created"]


class ClientNotesApi(APIView):
    permission_classes = [IsStudioStaff]

    class NoteInput(serializers.Serializer):
        text = serializers.CharField(max_length=NOTE_MAX_LENGTH)

    @extend_schema(responses=paginated(NoteOutput))
    def get(self, request, client_id: int):
        paginator = PageNumberPagination()
        notes = selectors.client_notes(client=_get(request, client_id))
        page = paginator.paginate_queryset(notes, request, view=self)
        return paginator.get_paginated_response(NoteOutput(page, many=True).data)

    @extend_schema(request=NoteInput, responses={201: NoteOutput})
    def post(self, request, client_id: int):
        client = _get(request, client_id)
        data = self.NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        note = services.client_note_add(client=client, author=request.user, **data.validated_data)
        return Response(NoteOutput(note).data, status=status.HTTP_201_CREATED)


class TimelineEntryOutput(serializers.Serializer):
    """One entry of a client's timeline; which fields it has depends on its ``kind``."""

    kind = serializers.ChoiceField(choices=["note", "booking", "package"])
    at = serializers.DateTimeField()
    id = serializers.IntegerField()
    # note
    text = serializers.CharField(required=False)
    author = serializers.IntegerField(required=False, allow_null=True)
    author_name = serializers.CharField(required=False)
    # booking (a change of a booking) and package (a credit movement)
    event = serializers.CharField(required=False)
    note = serializers.CharField(required=False)
    booking = serializers.IntegerField(required=False)
    status = serializers.CharField(required=False)
    session_type = serializers.IntegerField(required=False)
    session_type_name = serializers.CharField(required=False)
    start_time = serializers.DateTimeField(required=False)
    client_package = serializers.IntegerField(required=False)
    package = serializers.IntegerField(required=False)
    package_name = serializers.CharField(required=False)
    delta = serializers.IntegerField(required=False)


class ClientTimelineApi(APIView):
    permission_classes = [IsStudioStaff]

    @extend_schema(responses=TimelineEntryOutput(many=True))
    def get(self, request, client_id: int):
        return Response(selectors.client_timeline(client=_get(request, client_id), user=request.user))


class FileTooLarge(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "file_too_large"
    message = f"The file is larger than {IMPORT_MAX_BYTES // (1024 * 1024)} MB."


class SizeLimitHandler(FileUploadHandler):
    """Stops an upload as soon as it passes the limit, for requests that didn't say their length up front."""

    def __init__(self, request=None, limit: int = IMPORT_MAX_BYTES):
        super().__init__(request)
        self.limit, self.received = limit, 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            raise FileTooLarge()
        return raw_data

    def file_complete(self, file_size):
        return None


class ImportResultOutput(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    errors = inline_serializer(
        "ImportRowError",
        {"row": serializers.IntegerField(), "field": serializers.CharField(), "message": serializers.CharField()},
        many=True,
    )


class ClientImportOutput(serializers.ModelSerializer):
    created_by = serializers.IntegerField(source="created_by_id", allow_null=True)
    url = serializers.SerializerMethodField()
    report = serializers.JSONField(
        allow_null=True,
        help_text="Once finished, what the import answers within a request: its counts when it succeeded, "
        "its error body (code, detail, fields and each row's errors) when it failed.",
    )

    class Meta:
        model = ClientImport
        fields = [
            "id", "url", "status", "dry_run", "file_name", "rows_total", "rows_done", "report", "error",
            "created_by", "created", "started_at", "finished_at",
        ]  # fmt: skip

    def get_url(self, job: ClientImport) -> str:
        return self.context["request"].build_absolute_uri(reverse("clients-import-job", args=[job.pk]))


class ClientImportApi(APIView):
    """CSV import (owner and managers); ``dry_run=true`` reports what would change and writes nothing.

    A file up to CLIENT_IMPORT_SYNC_MAX_BYTES is imported at once (200 and the report); a larger one is
    imported by a background job (202 and the job, whose URL is in Location), so it doesn't hold a worker.
    """

    permission_classes = [MayChangeClients]
    parser_classes = [MultiPartParser]

    class ImportInput(serializers.Serializer):
        file = serializers.FileField()
        dry_run = serializers.BooleanField(default=False)

    def initial(self, request, *args, **kwargs):
        # Refuse an oversized upload before any of it is read (authentication may read a form body).
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > IMPORT_MAX_BYTES + 64 * 1024:
            raise FileTooLarge()
        request._request.upload_handlers.insert(0, SizeLimitHandler(request._request))
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request=ImportInput,
        parameters=[
            OpenApiParameter(
                "Location", OpenApiTypes.URI, OpenApiParameter.HEADER, response=[202], description="The job's URL."
            )
        ],
        responses={
            200: ImportResultOutput,
            202: OpenApiResponse(
                ClientImportOutput,
                description="A file larger than CLIENT_IMPORT_SYNC_MAX_BYTES is imported by a background job: "
                "poll the URL in Location (and in ``url``) until its status is succeeded or failed.",
            ),
        },
    )
    def post(self, request):
        data = self.ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        upload, dry_run = data.validated_data["file"], data.validated_data["dry_run"]
        if upload.size > IMPORT_MAX_BYTES:
            raise FileTooLarge()
        if upload.size > settings.CLIENT_IMPORT_SYNC_MAX_BYTES:
            job = services.client_import_start(
                content=upload.read(), dry_run=dry_run, file_name=upload.name or "", created_by=request.user
            )
            body = ClientImportOutput(job, context={"request": request}).data
            return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})
        result = services.client_import_csv(content=upload.read(), dry_run=dry_run)
        return Response(result.as_dict())


class ClientImportJobApi(APIView):
    """A background import's status, progress and, once finished, its report (owner and managers)."""

    permission_classes = [MayChangeClients]

    @extend_schema(responses=ClientImportOutput)
    def get(self, request, import_id: int):
        job = get_object_or_404(selectors.client_imports(user=request.user), pk=import_id)
        return Response(ClientImportOutput(job, context={"request": request}).data)


class ClientExportApi(APIView):
    permission_classes = [MayChangeClients]

    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request):
        response = HttpResponse(services.client_export_csv(user=request.user), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="clients.csv"'
        return response


class MyClientOutput(ClientOutput):
    """A client's own profile: the studio's notes and tags about them stay with the studio."""

    class Meta(ClientOutput.Meta):
        fields = [
            "id", "email", "first_name", "last_name", "phone", "fitness_level", "goals", "preferences",
            "primary_trainer", "primary_trainer_name", "user", "is_active", "created", "updated",
        ]  # fmt: skip


NOT_A_CLIENT = OpenApiResponse(
    ErrorResponseSerializer,
    description="`not_a_client`: the caller is the studio's staff; `no_client_profile`: no client record is "
    "linked to this account yet (an address the studio already knew is linked once it is confirmed).",
)


class MyClientApi(APIView):
    """The signed-in client's own profile in the studio's client book, without knowing its id."""

    permission_classes = [IsStudioMember]

    @extend_schema(responses={200: MyClientOutput, 404: NOT_A_CLIENT})
    def get(self, request):
        return Response(MyClientOutput(selectors.client_of_user(user=request.user)).data)
