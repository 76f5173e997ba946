from celery import shared_task
from django.db import connection
from django_tenants.utils import get_public_schema_name, get_tenant_model, schema_context, tenant_context

from shared_apps.accounts import services
from shared_apps.core.tenancy import current_studio


@shared_task
def password_reset_mail_send(*, email: str) -> None:
    """Mail the reset link, in the schema the task was queued from (tenant-schemas-celery switches to it)."""
    schema = connection.schema_name
    if current_studio() is not None or schema == get_public_schema_name():
        services.password_reset_mail_send(email=email)
        return
    # tenant-schemas-celery loads the studio only when it has to switch schemas: a task that finds the
    # connection in its schema already (run eagerly, as in the tests) has the schema's name and no studio,
    # and the mail needs the studio itself (its theme, name and domain).
    with schema_context(get_public_schema_name()):
        studio = get_tenant_model().objects.filter(schema_name=schema).first()
    if studio is None:
        return
    with tenant_context(studio):
        services.password_reset_mail_send(email=email)
