from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.accounts import services
from shared_apps.accounts.models import Role, User
from shared_apps.accounts.selectors import staff_list
from shared_apps.accounts.throttles import (
    LoginThrottled,
    PasswordChangeThrottle,
    PasswordResetThrottle,
    RegisterThrottle,
    login_address_remember_for,
)
from shared_apps.core.fields import PhoneNumberField
from shared_apps.core.pagination import PageNumberPagination
from shared_apps.core.permissions import IsStudioManager, IsStudioOwner
from shared_apps.core.schema import ErrorResponseSerializer, paginated
from shared_apps.core.validators import PERSON_NAME_MAX_LENGTH, validate_name


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


class StaffOutput(UserOutput):
    """A staff member: their account, whether it can log in, and their trainer profile's id (null: none)."""

    trainer = serializers.SerializerMethodField()

    class Meta(UserOutput.Meta):
        fields = [*UserOutput.Meta.fields, "is_active", "trainer"]
        read_only_fields = fields

    def get_trainer(self, user) -> int | None:
        # Reverse one-to-one: the staff selectors select it, so no query (None when there is no profile).
        trainer = getattr(user, "trainer", None)
        return trainer.pk if trainer is not None else None


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
        first_name = serializers.CharField(max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name])
        last_name = serializers.CharField(max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name])
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
    # Failed logins are throttled inside the service (only failures count), not by a DRF throttle.
    throttle_classes = []

    class LoginInput(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(trim_whitespace=False, max_length=4096)
        code = serializers.CharField(required=False, allow_blank=True, max_length=64)

    @extend_schema(
        request=LoginInput,
        responses={
            200: SessionOutput,
            401: OpenApiResponse(
                ErrorResponseSerializer, description="`mfa_required` or `mfa_invalid_code`: the second factor."
            ),
            429: OpenApiResponse(ErrorResponseSerializer, description="Too many failed attempts; see Retry-After."),
        },
        description=(
            "Exchange email and password for an API token.\n\n"
            "An account with two-factor authentication also sends `code`: the 6-digit code of its "
            "authenticator app, or one of its recovery codes. Without it the answer is 401 with code "
            "`mfa_required` (the password was right: send it again with `code`); a wrong code is 401 "
            "`mfa_invalid_code`. Wrong passwords are 400 `invalid_credentials`.\n\n"
            "Failed attempts are limited per account and address, per account from addresses that have not "
            "logged in to it lately, and per address over all accounts: past a limit the answer is 429 "
            "`throttled` with a Retry-After header, whatever the password."
        ),
    )
    def post(self, request):
        data = self.LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user, token = services.user_login(request=request, **data.validated_data)
        except LoginThrottled as error:
            raise exceptions.Throttled(wait=error.wait) from error
        return Response(session_body(user, token))


class LogoutApi(APIView):
    # Reachable before two-factor authentication is set up (see shared_apps/accounts/mfa.py), like MeApi.
    mfa_enrollment_exempt = True

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.user_logout(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    mfa_enrollment_exempt = True

    class MeInput(serializers.Serializer):
        first_name = serializers.CharField(
            max_length=PERSON_NAME_MAX_LENGTH, required=False, allow_blank=True, validators=[validate_name]
        )
        last_name = serializers.CharField(
            max_length=PERSON_NAME_MAX_LENGTH, required=False, allow_blank=True, validators=[validate_name]
        )
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

    @extend_schema(
        request=PasswordResetInput,
        responses={202: OpenApiResponse(description="Accepted, whether or not the address has an account.")},
        description=(
            "Mail a password reset link to the address if it has an account on this studio; the answer is "
            "the same either way.\n\n"
            "The link leads to the studio's own set-password page, on the studio's primary domain:\n\n"
            "`https://<studio host>/accounts/password/reset/key/<uid>-<token>/`\n\n"
            "A client app that completes the reset itself takes the last path segment and splits it at its "
            "first hyphen: before it is `uid` (the account id in base 36: digits and lower-case "
            "letters, never a hyphen), after it is `token` (which itself contains a hyphen). For "
            "`.../key/2s-cfk1y2-8b3e0c6a1d2f4e5a6b7c/` the uid is `2s` and the token `cfk1y2-8b3e0c6a1d2f4e5a6b7c`. "
            "It then posts both, with the new password, to `/api/users/password-reset/confirm/`. "
            "A link works once and expires (Django's PASSWORD_RESET_TIMEOUT)."
        ),
    )
    def post(self, request):
        data = self.PasswordResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"])
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

    @extend_schema(
        request=PasswordResetConfirmInput,
        responses={204: None},
        description=(
            "Set a new password with the `uid` and `token` of a mailed reset link "
            "`https://<studio host>/accounts/password/reset/key/<uid>-<token>/`: split its last path segment "
            "at the first hyphen, `uid` before it (base 36, no hyphen), `token` after it (the rest, hyphen "
            "included). A used, expired or altered link is 400 `invalid_token`; a weak password is 400 "
            "`invalid` with `fields.new_password`. Every API token of the account stops working, and failed "
            "logins from other addresses no longer hold this address back."
        ),
    )
    def post(self, request):
        data = self.PasswordResetConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.password_reset_confirm(**data.validated_data)
        # Whoever completed the reset holds the mailbox: their address counts as the holder's from now on.
        login_address_remember_for(request=request, email=user.email)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffApi(APIView):
    """The studio's staff; owners and managers invite managers and trainers."""

    permission_classes = [IsStudioManager]

    class StaffInput(serializers.Serializer):
        email = serializers.EmailField()
        first_name = serializers.CharField(max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name])
        last_name = serializers.CharField(max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name])
        role = serializers.ChoiceField(choices=[Role.MANAGER, Role.TRAINER])

    @extend_schema(
        responses=paginated(StaffOutput),
        description="Everyone on the staff, deactivated accounts included (`is_active` false).",
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(staff_list(), request, view=self)
        return paginator.get_paginated_response(StaffOutput(page, many=True).data)

    @extend_schema(
        request=StaffInput,
        responses={201: StaffOutput},
        description=(
            "Invite a manager or a trainer: the account is made without a password and its holder gets a mail "
            "with a link to choose one. A trainer gets their trainer profile at once (`trainer`: its id), named "
            "after them, in the studio's timezone, bookable once they have availability; "
            "`POST /api/trainers/` does the same with the profile's details."
        ),
    )
    def post(self, request):
        data = self.StaffInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.staff_invite(**data.validated_data, invited_by=request.user)
        return Response(StaffOutput(staff_list().get(pk=user.pk)).data, status=status.HTTP_201_CREATED)


class StaffDetailApi(APIView):
    permission_classes = [IsStudioManager]

    class StaffUpdateInput(serializers.Serializer):
        role = serializers.ChoiceField(choices=services.STAFF_ROLE_CHOICES)

    @extend_schema(responses=StaffOutput)
    def get(self, request, user_id: int):
        return Response(StaffOutput(get_object_or_404(staff_list(), pk=user_id)).data)

    @extend_schema(
        request=StaffUpdateInput,
        responses=StaffOutput,
        description=(
            "The owner makes a manager a trainer or a trainer a manager (403 for anyone else, and for the "
            "owner's own account). Becoming a trainer gives the account a bookable trainer profile (a new one, "
            "or its old one back). A trainer who becomes a manager keeps their profile, calendar and bookings "
            "and stays bookable: a manager may still teach (`DELETE /api/trainers/{id}/` stops new bookings). "
            "The new role's permissions apply from the next request."
        ),
    )
    def patch(self, request, user_id: int):
        user = get_object_or_404(staff_list(), pk=user_id)
        data = self.StaffUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.staff_role_change(user=user, actor=request.user, role=data.validated_data["role"])
        return Response(StaffOutput(staff_list().get(pk=user.pk)).data)


class StaffReactivateApi(APIView):
    permission_classes = [IsStudioManager]

    @extend_schema(
        request=None,
        responses=StaffOutput,
        description=(
            "A deactivated account can log in again with its password (tokens and sessions from before stay "
            "ended) and its trainer profile, if any, takes bookings again. The owner reactivates managers and "
            "trainers, a manager trainers; nobody their own account or the owner's (403). Reactivating an "
            "active account changes nothing. Deactivating is `POST /api/staff/{id}/deactivate/`."
        ),
    )
    def post(self, request, user_id: int):
        user = get_object_or_404(staff_list(), pk=user_id)
        services.staff_reactivate(user=user, actor=request.user)
        return Response(StaffOutput(staff_list().get(pk=user.pk)).data)


class StaffSecurityApi(APIView):
    """The owner decides whether the studio's staff must use two-factor authentication."""

    permission_classes = [IsStudioOwner]

    class StaffSecurityBody(serializers.Serializer):
        staff_mfa_required = serializers.BooleanField()

    @extend_schema(responses=StaffSecurityBody)
    def get(self, request):
        return Response({"staff_mfa_required": request.tenant.staff_mfa_required})

    @extend_schema(
        request=StaffSecurityBody,
        responses=StaffSecurityBody,
        description=(
            "With `staff_mfa_required` on, the owner, managers and trainers must set up two-factor "
            "authentication (at /accounts/2fa/) before anything else: until then the API answers 403 "
            "`mfa_enrollment_required` (except /api/users/me/ and logout) and pages lead to the setup page. "
            "The owner must have it set up first (400 `mfa_not_enabled`)."
        ),
    )
    def put(self, request):
        data = self.StaffSecurityBody(data=request.data)
        data.is_valid(raise_exception=True)
        required = services.studio_staff_mfa_set(owner=request.user, required=data.validated_data["staff_mfa_required"])
        return Response({"staff_mfa_required": required})
