from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from shared_apps.accounts.models import User, UserManager
from shared_apps.core.exceptions import ValidationFailed
from tenant_apps.clients.models import Client

EMAIL_TAKEN = "A client with this email already exists."


@transaction.atomic
def client_create(
    *, email: str, first_name: str, last_name: str = "", phone: str = "", user: User | None = None
) -> Client:
    client = Client(
        email=UserManager.normalize_email(email), first_name=first_name, last_name=last_name, phone=phone, user=user
    )
    if Client.objects.filter(email__iexact=client.email).exists():
        raise ValidationFailed(fields={"email": [EMAIL_TAKEN]})
    try:
        client.full_clean(validate_constraints=False)
    except ValidationError as error:
        raise ValidationFailed(fields=error.message_dict) from error
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError as error:
        raise ValidationFailed(fields={"email": [EMAIL_TAKEN]}) from error
    return client


@transaction.atomic
def client_for_user(*, user: User) -> Client:
    """The client record of a signed-up client: linked already, or matched by email and linked now."""
    client = Client.objects.select_for_update().filter(user=user).first()
    if client is not None:
        return client
    client = Client.objects.select_for_update().filter(email__iexact=user.email, user__isnull=True).first()
    if client is not None:
        client.user = user
        client.save(update_fields=["user", "updated"])
        return client
    return client_create(
        email=user.email,
        first_name=user.first_name or user.email.split("@")[0],
        last_name=user.last_name,
        phone=user.phone,
        user=user,
    )
