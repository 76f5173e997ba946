from shared_apps.accounts.models import STAFF_ROLES, User


def staff_list():
    """The studio's staff, deactivated accounts included, each with its trainer profile (if any) at hand."""
    # "trainer" is the reverse side of the trainers app's one-to-one, named by string: accounts imports none of it.
    return User.objects.filter(role__in=STAFF_ROLES).select_related("trainer").order_by("last_name", "first_name", "id")
