from celery import shared_task
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context, tenant_context

from shared_apps.accounts import services


@shared_task
def password_reset_mail_send(*, schema: str, email: str) -> None:
    """Look the account up in ``schema`` and mail its reset link, rendered in the studio's theme."""
    if schema == get_public_schema_name():
        context = schema_context(schema)
    else:
        with schema_context(get_public_schema_name()):
            studio = get_tenant_model().objects.filter(schema_name=schema).first()
        if studio is None:
            return
        # The studio itself (not just its schema): its theme and name render the mail.
        context = tenant_context(studio)
    with context:
        services.password_reset_mail_send(email=email)
