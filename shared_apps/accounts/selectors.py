from shared_apps.accounts.models import STAFF_ROLES, User


def staff_list():
    return User.objects.filter(role__in=STAFF_ROLES).order_by("last_name", "first_name", "id")
