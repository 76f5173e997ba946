from django.conf import settings
from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import User
from tenants.models import Studio
from tenants.services import studio_create

DEMO_SLUG = "demo"
OWNER_EMAIL = "owner@demo.localhost"
ADMIN_EMAIL = "admin@localhost"
DEMO_PASSWORD = "trainerhub-demo"  # noqa: S105 - a published demo login, for local use only


class Command(BaseCommand):
    help = "Create (once) the demo studio with its owner, and a platform admin; print their logins."

    def handle(self, *args, **options):
        with schema_context("public"):
            if not User.objects.filter(email=ADMIN_EMAIL).exists():
                User.objects.create_superuser(ADMIN_EMAIL, DEMO_PASSWORD, first_name="Platform", last_name="Admin")
            studio = Studio.objects.filter(slug=DEMO_SLUG).first()
            if studio is None:
                studio = studio_create(
                    name="Demo Fitness Studio",
                    slug=DEMO_SLUG,
                    owner_email=OWNER_EMAIL,
                    owner_password=DEMO_PASSWORD,
                    owner_first_name="Dana",
                    owner_last_name="Owner",
                    timezone="Europe/London",
                    currency="GBP",
                )
            domain = studio.get_primary_domain()
        with tenant_context(studio):
            owner_exists = User.objects.filter(email=OWNER_EMAIL).exists()

        # make run sets SITE_PORT from PORT, so the links printed here are the ones that answer.
        port = settings.SITE_PORT or "8000"
        self.stdout.write(
            self.style.SUCCESS("\nTrainerHub is ready.\n")
            + f"  Platform      http://localhost:{port}/   admin: http://localhost:{port}/admin/\n"
            + f"                login {ADMIN_EMAIL} / {DEMO_PASSWORD}\n"
            + f"  Demo studio   http://{domain}:{port}/\n"
            + (f"                owner login {OWNER_EMAIL} / {DEMO_PASSWORD}\n" if owner_exists else "")
            + f"  API docs      http://{domain}:{port}/api/docs/\n"
        )
