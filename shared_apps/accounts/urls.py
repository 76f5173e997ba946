from django.urls import path

from shared_apps.accounts import api

urlpatterns = [
    path("users/register/", api.RegisterApi.as_view(), name="user-register"),
    path("users/login/", api.LoginApi.as_view(), name="user-login"),
    path("users/logout/", api.LogoutApi.as_view(), name="user-logout"),
    path("users/me/", api.MeApi.as_view(), name="user-me"),
    path("users/change-password/", api.ChangePasswordApi.as_view(), name="user-change-password"),
    path("users/password-reset/", api.PasswordResetApi.as_view(), name="user-password-reset"),
    path(
        "users/password-reset/confirm/",
        api.PasswordResetConfirmApi.as_view(),
        name="user-password-reset-confirm",
    ),
    path("staff/", api.StaffApi.as_view(), name="staff"),
    path("staff/security/", api.StaffSecurityApi.as_view(), name="staff-security"),
    path("staff/<int:user_id>/", api.StaffDetailApi.as_view(), name="staff-detail"),
    # Deactivating is routed by the bookings app (tenant_apps/bookings/handover_api.py): it hands over bookings.
    path("staff/<int:user_id>/reactivate/", api.StaffReactivateApi.as_view(), name="staff-reactivate"),
]

# The platform host has accounts too (platform admins), but no sign-up, reset or staff.
platform_urlpatterns = [
    path("users/login/", api.LoginApi.as_view(), name="user-login"),
    path("users/logout/", api.LogoutApi.as_view(), name="user-logout"),
    path("users/me/", api.MeApi.as_view(), name="user-me"),
]
