from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.core.pagination import PageNumberPagination
from shared_apps.core.permissions import IsStudioManager, IsStudioStaff
from tenant_apps.clients import services
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import client_list


class ClientOutput(serializers.ModelSerializer):
    user_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Client
        fields = ["id", "email", "first_name", "last_name", "phone", "user_id", "is_active", "created", "updated"]


class ClientListCreateApi(APIView):
    def get_permissions(self):
        return [IsStudioManager()] if self.request.method == "POST" else [IsStudioStaff()]

    class ClientCreateInput(serializers.Serializer):
        email = serializers.EmailField()
        first_name = serializers.CharField(max_length=150)
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
        phone = PhoneNumberField(required=False, allow_blank=True, default="")

    @extend_schema(responses=ClientOutput(many=True))
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(client_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(ClientOutput(page, many=True).data)

    @extend_schema(request=ClientCreateInput, responses={201: ClientOutput})
    def post(self, request):
        data = self.ClientCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        client = services.client_create(**data.validated_data)
        return Response(ClientOutput(client).data, status=status.HTTP_201_CREATED)


class ClientDetailApi(APIView):
    permission_classes = [IsStudioStaff]

    @extend_schema(responses=ClientOutput)
    def get(self, request, client_id: int):
        return Response(ClientOutput(get_object_or_404(client_list(user=request.user), pk=client_id)).data)
