from django.conf import settings

from tenants.models import Studio


def studio(request) -> dict:
    tenant = getattr(request, "tenant", None)
    if isinstance(tenant, Studio):
        return {"studio": tenant}
    return {"studio": None, "platform_name": settings.PLATFORM_NAME}
