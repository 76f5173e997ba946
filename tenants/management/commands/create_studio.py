from django.core.management.base import BaseCommand, CommandError

from shared_apps.core.exceptions import ApplicationError
from tenants.services import studio_create


class Command(BaseCommand):
    help = "Create a studio: its schema, its primary domain and its owner's account."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True)
        parser.add_argument("--owner-email", required=True)
        parser.add_argument("--owner-password", help="Without it, the owner is mailed a link to choose one.")
        parser.add_argument("--owner-first-name", default="")
        parser.add_argument("--owner-last-name", default="")
        parser.add_argument("--timezone", default="UTC")
        parser.add_argument("--theme")
        parser.add_argument("--currency", default="USD")
        parser.add_argument(
            "--country",
            default="GB",
            help="ISO 3166 alpha-2 code (default GB): the region of phone numbers typed without a country code.",
        )

    def handle(self, *args, **options):
        try:
            studio = studio_create(
                name=options["name"],
                slug=options["slug"],
                owner_email=options["owner_email"],
                owner_password=options["owner_password"],
                owner_first_name=options["owner_first_name"],
                owner_last_name=options["owner_last_name"],
                timezone=options["timezone"],
                theme=options["theme"],
                currency=options["currency"],
                country=options["country"],
            )
        except ApplicationError as error:
            problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.fields.items())
            raise CommandError(f"{error.message} {problems}".strip()) from error
        self.stdout.write(f"Created studio {studio.name} at {studio.get_primary_domain()}")
