from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

from tenants.services import template_schema_sync


class Command(MigrateSchemasCommand):
    """django-tenants' migrate (public, then every studio), and the template schema new studios are cloned from.

    The ``tenants`` app is listed before ``django_tenants`` so that this command is the one ``migrate`` runs.
    """

    def handle(self, *args, **options):
        every_studio = options.get("tenant") or not (options.get("shared") or options.get("schema_name"))
        super().handle(*args, **options)
        if every_studio and not options.get("schema_name") and not options.get("app_label"):
            template_schema_sync(verbosity=options.get("verbosity", 1))
