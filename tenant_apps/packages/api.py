from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.core.fields import AwareDateTimeField, StrictPrimaryKeyRelatedField
from shared_apps.core.pagination import PageNumberPagination
from shared_apps.core.permissions import IsStudioManager, IsStudioMember, ReadOnlyOrStudioManager
from shared_apps.core.schema import CONFLICT, ErrorResponseSerializer, paginated
from shared_apps.core.validators import REASON_MAX_LENGTH, TEXT_MAX_LENGTH, TITLE_MAX_LENGTH, validate_name
from tenant_apps.clients.models import Client
from tenant_apps.packages import services
from tenant_apps.packages.models import ClientPackage, CreditTransaction, PaymentMethod, SessionPackage
from tenant_apps.packages.selectors import (
    client_package_list,
    client_packages_of_user,
    package_list,
    package_sales,
    visible_clients,
)
from tenant_apps.trainers.models import SessionType


class SessionPackageOutput(serializers.ModelSerializer):
    session_types = serializers.SerializerMethodField()

    class Meta:
        model = SessionPackage
        fields = [
            "id", "name", "description", "sessions_count", "price", "currency", "validity_days", "session_types",
            "is_active", "created", "updated",
        ]  # fmt: skip

    def get_session_types(self, package) -> list[int]:
        return sorted(session_type.pk for session_type in package.session_types.all())


class SessionPackageInput(serializers.Serializer):
    # Ranges (sessions_count >= 1, price > 0, validity_days >= 1) are the service's to check, with one message.
    name = serializers.CharField(max_length=TITLE_MAX_LENGTH, validators=[validate_name])
    description = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    sessions_count = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    validity_days = serializers.IntegerField()
    session_types = StrictPrimaryKeyRelatedField(queryset=SessionType.objects.all(), many=True, required=False)
    is_active = serializers.BooleanField(required=False)


class ClientPackageOutput(serializers.ModelSerializer):
    client = serializers.IntegerField(source="client_id")
    client_name = serializers.CharField(source="client.full_name")
    package = serializers.IntegerField(source="package_id")
    package_name = serializers.CharField(source="package.name")
    sold_by = serializers.IntegerField(source="sold_by_id", allow_null=True)

    class Meta:
        model = ClientPackage
        fields = [
            "id", "client", "client_name", "package", "package_name", "sessions_remaining", "expiry_date",
            "purchased_at", "status", "amount_paid", "currency", "payment_method", "sold_by", "created",
        ]  # fmt: skip


class CreditTransactionOutput(serializers.ModelSerializer):
    booking = serializers.IntegerField(source="booking_id", allow_null=True)
    actor = serializers.IntegerField(source="actor_id", allow_null=True)

    class Meta:
        model = CreditTransaction
        fields = ["id", "kind", "delta", "booking", "reason", "actor", "created"]


class ClientPackageLedgerOutput(ClientPackageOutput):
    transactions = CreditTransactionOutput(many=True)

    class Meta(ClientPackageOutput.Meta):
        fields = [*ClientPackageOutput.Meta.fields, "transactions"]


def _package(request, package_id: int) -> SessionPackage:
    return get_object_or_404(package_list(user=request.user), pk=package_id)


def _client(request, client_id: int) -> Client:
    """A client the caller may look at; anyone else's id, another studio's included, is a 404."""
    return get_object_or_404(visible_clients(user=request.user), pk=client_id)


class PackageListCreateApi(APIView):
    permission_classes = [ReadOnlyOrStudioManager]

    @extend_schema(responses=paginated(SessionPackageOutput), auth=[])
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(package_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(SessionPackageOutput(page, many=True).data)

    @extend_schema(request=SessionPackageInput, responses={201: SessionPackageOutput})
    def post(self, request):
        data = SessionPackageInput(data=request.data)
        data.is_valid(raise_exception=True)
        package = services.package_create(**data.validated_data)
        return Response(SessionPackageOutput(package).data, status=status.HTTP_201_CREATED)


class PackageDetailApi(APIView):
    permission_classes = [ReadOnlyOrStudioManager]

    @extend_schema(responses=SessionPackageOutput, auth=[])
    def get(self, request, package_id: int):
        return Response(SessionPackageOutput(_package(request, package_id)).data)

    @extend_schema(request=SessionPackageInput, responses=SessionPackageOutput)
    def patch(self, request, package_id: int):
        package = _package(request, package_id)
        data = SessionPackageInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        package = services.package_update(package=package, **data.validated_data)
        return Response(SessionPackageOutput(package).data)

    @extend_schema(responses={200: SessionPackageOutput})
    def delete(self, request, package_id: int):
        """Stops selling the package; packages already sold keep working."""
        package = services.package_deactivate(package=_package(request, package_id))
        return Response(SessionPackageOutput(package).data)


class PackageClientsApi(APIView):
    """Who bought this package, with their balances."""

    permission_classes = [IsStudioManager]

    @extend_schema(responses=paginated(ClientPackageOutput))
    def get(self, request, package_id: int):
        paginator = PageNumberPagination()
        sales = package_sales(package=_package(request, package_id))
        page = paginator.paginate_queryset(sales, request, view=self)
        return paginator.get_paginated_response(ClientPackageOutput(page, many=True).data)


class MayManageClientPackages(IsStudioMember):
    """Selling a package and correcting a balance: the service's rule (``services.may_manage_client_packages``,
    the desk asks it too)."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and services.may_manage_client_packages(request.user)


class PackageAssignApi(APIView):
    """Record a sale: the client gets the package's credits. The money is taken at the studio, not here."""

    permission_classes = [MayManageClientPackages]

    class PackageAssignInput(serializers.Serializer):
        client = StrictPrimaryKeyRelatedField(queryset=Client.objects.all())
        # Checked by the service (with the other fields' problems in one answer), so any string passes here.
        payment_method = serializers.CharField(help_text=f"One of: {', '.join(PaymentMethod.values)}.")
        amount_paid = serializers.DecimalField(max_digits=10, decimal_places=2)
        purchased_at = AwareDateTimeField(required=False)

    @extend_schema(request=PackageAssignInput, responses={201: ClientPackageOutput})
    def post(self, request, package_id: int):
        package = _package(request, package_id)
        data = self.PackageAssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        client_package = services.package_assign(package=package, **data.validated_data, sold_by=request.user)
        return Response(ClientPackageOutput(client_package).data, status=status.HTTP_201_CREATED)


class ClientPackageListApi(APIView):
    """A client's packages with balances and ledgers: staff as far as they see the client, a client their own."""

    permission_classes = [IsStudioMember]

    @extend_schema(responses=paginated(ClientPackageLedgerOutput))
    def get(self, request, client_id: int):
        paginator = PageNumberPagination()
        packages = client_package_list(client=_client(request, client_id))
        page = paginator.paginate_queryset(packages, request, view=self)
        return paginator.get_paginated_response(ClientPackageLedgerOutput(page, many=True).data)


class ClientPackageAdjustApi(APIView):
    """A correction of a client package's balance, with its reason in the ledger."""

    permission_classes = [MayManageClientPackages]

    class ClientPackageAdjustInput(serializers.Serializer):
        delta = serializers.IntegerField(min_value=-1000, max_value=1000)
        reason = serializers.CharField(max_length=REASON_MAX_LENGTH)

    @extend_schema(request=ClientPackageAdjustInput, responses={200: ClientPackageLedgerOutput, 409: CONFLICT})
    def post(self, request, client_id: int, client_package_id: int):
        client = _client(request, client_id)
        client_package = get_object_or_404(client_package_list(client=client), pk=client_package_id)
        data = self.ClientPackageAdjustInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.client_package_adjust(client_package=client_package, **data.validated_data, actor=request.user)
        return Response(ClientPackageLedgerOutput(client_package_list(client=client).get(pk=client_package.pk)).data)


class MyClientPackageOutput(ClientPackageLedgerOutput):
    is_usable = serializers.BooleanField(
        help_text="It can pay for a booking today: active, credits left and not past its expiry date."
    )

    class Meta(ClientPackageLedgerOutput.Meta):
        fields = [*ClientPackageLedgerOutput.Meta.fields, "is_usable"]


class MyPackagesApi(APIView):
    """The signed-in client's own packages, expiring first on top: credits left, expiry, status and ledger."""

    permission_classes = [IsStudioMember]

    @extend_schema(
        responses={
            200: paginated(MyClientPackageOutput),
            404: OpenApiResponse(
                ErrorResponseSerializer,
                description="`not_a_client`: the caller is the studio's staff; `no_client_profile`: no client "
                "record is linked to this account yet; or no such page of the list.",
            ),
        }
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(client_packages_of_user(user=request.user), request, view=self)
        return paginator.get_paginated_response(MyClientPackageOutput(page, many=True).data)
