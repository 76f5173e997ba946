from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.accounts import services
from shared_apps.accounts.models import Role, User
from shared_apps.accounts.selectors import staff_list
from shared_apps.accounts.throttles import (
    LoginAccountThrottle,
    LoginIPThrottle,
    PasswordChangeThrottle,
    PasswordResetThrottle,
    RegisterThrottle,
)
from shared_apps.core.pagination import PageNumberPagination
from shared_apps.core.permissions import IsStudioManager


class UserOutput(serializers.ModelSerializer):
    user_type = serializers.CharField(source="role", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "phone", "user_type", "created"]
        read_only_fields = fields


class SessionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    token = serializers.CharField()
    user_type = serializers.CharField()


def session_body(user: User, token) -> dict:
    return {"id": user.pk, "email": user.email, "token": token.key, "user_type": user.role}


class RegisterApi(APIView):
    """A client signs up on the studio's host."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [RegisterThrottle]

    class RegisterInput(serializers.Serializer):
        email = serializers.EmailField()
        password = serializers.CharField(write_only=True, trim_whitespace=False)
        first_name = serializers.CharField(max_length=150)
        last_name = serializers.CharField(max_length=150)
        phone = PhoneNumberField(required=False, allow_blank=True)

    @extend_schema(request=RegisterInput, responses={201: SessionOutput})
    def post(self, request):
        data = self.RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.client_register(**data.validated_data)
        services.email_confirmation_send(user=user, request=request)
        return Response(session_body(user, services.token_for(user)), status=status.HTTP_201_CREATED)


class LoginApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [LoginIPThrottle, LoginAccountThrottle]

    class LoginInput(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(trim_whitespace=False, max_length=4096)

    @extend_schema(request=LoginInput, responses={200: SessionOutput})
    def post(self, request):
        data = self.LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        user, token = services.user_login(request=request, **data.validated_data)
        return Response(session_body(user, token))


class LogoutApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.user_logout(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    class MeInput(serializers.Serializer):
        first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        phone = PhoneNumberField(required=False, allow_blank=True)

    @extend_schema(responses=UserOutput)
    def get(self, request):
        return Response(UserOutput(request.user).data)

    @extend_schema(request=MeInput, responses=UserOutput)
    def patch(self, request):
        data = self.MeInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, **data.validated_data)
        return Response(UserOutput(user).data)


class ChangePasswordApi(APIView):
    # A stolen token must not become a way to guess the password behind it.
    throttle_classes = [PasswordChangeThrottle]

    class ChangePasswordInput(serializers.Serializer):
        old_password = serializers.CharField(trim_whitespace=False)
        new_password = serializers.CharField(trim_whitespace=False)

    class ChangePasswordOutput(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=ChangePasswordInput, responses=ChangePasswordOutput)
    def post(self, request):
        data = self.ChangePasswordInput(data=request.data)
        data.is_valid(raise_exception=True)
        token = services.password_change(user=request.user, **data.validated_data)
        return Response({"token": token.key})


class PasswordResetApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [PasswordResetThrottle]

    class PasswordResetInput(serializers.Serializer):
        email = serializers.EmailField()

    @extend_schema(request=PasswordResetInput, responses={202: None})
    def post(self, request):
        data = self.PasswordResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"], request=request)
        return Response(
            {"detail": "If an account exists for this email, a reset link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [PasswordResetThrottle]

    class PasswordResetConfirmInput(serializers.Serializer):
        uid = serializers.CharField(max_length=64)
        token = serializers.CharField(max_length=256)
        new_password = serializers.CharField(trim_whitespace=False)

    @extend_schema(request=PasswordResetConfirmInput, responses={204: None})
    def post(self, request):
        data = self.PasswordResetConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffApi(APIView):
    """The studio's staff; owners and managers invite managers and trainers."""

    permission_classes = [IsStudioManager]

    class StaffInput(serializers.Serializer):
        email = serializers.EmailField()
        first_name = serializers.CharField(max_length=150)
        last_name = serializers.CharField(max_length=150)
        role = serializers.ChoiceField(choices=[Role.MANAGER, Role.TRAINER])

    @extend_schema(responses=UserOutput(many=True))
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(staff_list(), request, view=self)
        return paginator.get_paginated_response(UserOutput(page, many=True).data)

    @extend_schema(request=StaffInput, responses={201: UserOutput})
    def post(self, request):
        data = self.StaffInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.staff_invite(**data.validated_data, invited_by=request.user, request=request)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class StaffDetailApi(APIView):
    permission_classes = [IsStudioManager]

    @extend_schema(responses=UserOutput)
    def get(self, request, user_id: int):
        return Response(UserOutput(get_object_or_404(staff_list(), pk=user_id)).data)
