from django.db import connection
from rest_framework.permissions import BasePermission

from shared_apps.accounts.models import MANAGING_ROLES, Role


def on_platform_host() -> bool:
    return connection.schema_name == "public"


class IsPlatformAdmin(BasePermission):
    """A platform admin's account lives in the public schema, so this holds only on the platform host."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(on_platform_host() and user and user.is_authenticated and user.is_staff)


class HasStudioRole(BasePermission):
    roles: tuple[str, ...] = ()

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(not on_platform_host() and user and user.is_authenticated and user.role in self.roles)


class IsStudioManager(HasStudioRole):
    """The studio's owner or a manager."""

    roles = tuple(MANAGING_ROLES)


class IsStudioOwner(HasStudioRole):
    roles = (Role.OWNER,)


class ReadOnlyOrStudioManager(BasePermission):
    """Anyone may read (the booking site shows it); only the owner and managers write."""

    def has_permission(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return not on_platform_host()
        return IsStudioManager().has_permission(request, view)


class IsStudioStaff(HasStudioRole):
    """Owner, managers and trainers."""

    roles = (Role.OWNER, Role.MANAGER, Role.TRAINER)


class ReadOnlyOrStudioStaff(BasePermission):
    """Anyone may read; owner, managers and trainers may write (views narrow it down per object)."""

    def has_permission(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return not on_platform_host()
        return IsStudioStaff().has_permission(request, view)


class IsStudioMember(HasStudioRole):
    """Anyone logged in on the studio's host: staff and clients."""

    roles = (Role.OWNER, Role.MANAGER, Role.TRAINER, Role.CLIENT)
