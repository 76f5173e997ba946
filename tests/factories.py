import factory

from shared_apps.accounts.models import Role, User

PASSWORD = "Correct-Horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    """Creates in whatever schema is current: wrap it in tenant_context(studio)."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.CLIENT
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(self, create, extracted, **kwargs):
        if create:
            self.save()


class TrainerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "trainers.Trainer"

    user = factory.SubFactory(UserFactory, role=Role.TRAINER)
    display_name = factory.LazyAttribute(lambda trainer: trainer.user.get_full_name() or "Coach")
    timezone = "Europe/London"


class SessionTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "trainers.SessionType"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Session {n}")
    duration_minutes = 60
    price = "40.00"
    currency = "GBP"
    max_advance_days = 120

    @factory.post_generation
    def trainers(self, create, extracted, **kwargs):
        if create and extracted:
            self.trainers.set(extracted)


class WindowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "availability.AvailabilitySlot"

    day_of_week = 0
    start_time = "09:00"
    end_time = "12:00"


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clients.Client"

    email = factory.Sequence(lambda n: f"client{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class SessionPackageFactory(factory.django.DjangoModelFactory):
    """A package on sale; pass session_types=[...] to limit what it pays for (none: every session type)."""

    class Meta:
        model = "packages.SessionPackage"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Pack {n}")
    sessions_count = 10
    price = "300.00"
    currency = "GBP"
    validity_days = 90

    @factory.post_generation
    def session_types(self, create, extracted, **kwargs):
        if create and extracted:
            self.session_types.set(extracted)
