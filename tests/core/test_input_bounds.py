"""Bounds on what people type, the same through the API and the CSV import; names on one line; ids whole."""

import importlib
import json

import pytest
from django_filters import NumberFilter
from django_tenants.utils import schema_context, tenant_context
from rest_framework import serializers

from shared_apps.core.exceptions import ValidationFailed
from shared_apps.core.fields import StrictPrimaryKeyRelatedField
from shared_apps.core.filters import IdFilter
from shared_apps.core.validators import (
    EXPERTISE_MAX_COUNT,
    EXPERTISE_MAX_LENGTH,
    GOAL_MAX_LENGTH,
    GOALS_MAX_COUNT,
    JSON_MAX_BYTES,
    REASON_MAX_LENGTH,
    TAGS_MAX_COUNT,
    TEXT_MAX_LENGTH,
)
from tenant_apps.clients import csv_io
from tenant_apps.clients.models import Client
from tenant_apps.trainers.models import Trainer
from tenants.models import Studio
from tenants.services import studio_create
from tests.factories import ClientFactory, SessionPackageFactory, SessionTypeFactory, TrainerFactory

pytestmark = pytest.mark.django_db

API_MODULES = [
    "shared_apps.accounts.api",
    "tenants.api",
    "tenant_apps.availability.api",
    "tenant_apps.bookings.api",
    "tenant_apps.clients.api",
    "tenant_apps.packages.api",
    "tenant_apps.trainers.api",
]


def nested(depth: int):
    value = "leaf"
    for _ in range(depth):
        value = {"level": value}
    return value


# -- 6. bounds -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preferences", "accepted"),
    [
        (nested(5), True),
        (nested(6), False),
        ({"text": "x" * (JSON_MAX_BYTES - 100)}, True),
        ({"text": "x" * JSON_MAX_BYTES}, False),
        ({"text": "é" * (JSON_MAX_BYTES // 2)}, False),  # bytes are counted, not characters
    ],
)
def test_a_client_s_preferences_are_bounded_in_depth_and_size(as_user, manager_a, studio_a, preferences, accepted):
    response = as_user(manager_a).post(
        "/api/clients/", {"email": "p@x.test", "first_name": "P", "preferences": preferences}
    )

    with tenant_context(studio_a):
        stored = Client.objects.filter(email="p@x.test").exists()
    if accepted:
        assert response.status_code == 201
        assert stored
    else:
        assert response.status_code == 400
        assert "preferences" in response.json()["fields"]
        assert not stored


def test_a_client_s_preferences_are_bounded_on_update_too(as_user, manager_a, studio_a):
    with tenant_context(studio_a):
        client = ClientFactory()

    response = as_user(manager_a).patch(f"/api/clients/{client.pk}/", {"preferences": nested(8)})

    assert response.status_code == 400
    with tenant_context(studio_a):
        assert Client.objects.get(pk=client.pk).preferences == client.preferences


def test_a_two_megabyte_bio_is_a_400_and_not_stored(as_user, manager_a, owner_a, studio_a, schedule_a):
    trainer, _ = schedule_a

    response = as_user(owner_a).patch(f"/api/trainers/{trainer.pk}/", {"bio": "x" * (2 * 1024 * 1024)})

    assert response.status_code == 400
    assert "bio" in response.json()["fields"]
    with tenant_context(studio_a):
        assert Trainer.objects.get(pk=trainer.pk).bio == trainer.bio


@pytest.mark.parametrize(
    ("path", "field"),
    [("/api/packages/", "description"), ("/api/session-types/", "description"), ("/api/clients/", "notes")],
)
def test_long_text_is_refused_wherever_it_is_written(as_user, owner_a, path, field):
    response = as_user(owner_a).post(path, {field: "x" * (TEXT_MAX_LENGTH + 1)})

    assert response.status_code == 400
    assert field in response.json()["fields"]


CLIENT_TEXT_OVER_THE_LIMITS = [
    ("notes", "x" * (TEXT_MAX_LENGTH + 1)),
    ("goals", [f"goal {number}" for number in range(GOALS_MAX_COUNT + 1)]),
    ("goals", ["x" * (GOAL_MAX_LENGTH + 1)]),
    ("goals", [{"not": "a text"}]),
    ("goals", "not a list"),
    ("preferences", nested(6)),
    ("preferences", {"text": "x" * JSON_MAX_BYTES}),
    ("tags", [f"tag{number}" for number in range(TAGS_MAX_COUNT + 1)]),
]


@pytest.mark.parametrize(("field", "value"), CLIENT_TEXT_OVER_THE_LIMITS)
def test_the_client_model_refuses_free_text_over_the_limits(studio_a, field, value):
    """The admin, a shell or a future form validate through the model: it holds the same bounds as the API."""
    from django.core.exceptions import ValidationError

    with tenant_context(studio_a):
        client = ClientFactory.build(**{field: value})
        with pytest.raises(ValidationError) as refusal:
            client.full_clean(validate_constraints=False)

    assert list(refusal.value.message_dict) == [field]


def test_the_client_model_accepts_free_text_at_the_limits(studio_a):
    with tenant_context(studio_a):
        client = ClientFactory.build(
            notes="x" * TEXT_MAX_LENGTH,
            goals=["x" * GOAL_MAX_LENGTH] * GOALS_MAX_COUNT,
            preferences=nested(5),
            tags=[f"tag{number}" for number in range(TAGS_MAX_COUNT)],
        )

        client.full_clean(validate_constraints=False)


def test_a_booking_s_notes_take_as_much_text_as_a_client_s(as_user, manager_a, studio_a, schedule_a, booking_client_a):
    """One bound for notes, wherever they are written: the booking's are TEXT_MAX_LENGTH too."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo

    from tenant_apps.bookings.models import Booking
    from tenant_apps.bookings.services import booking_create
    from tests.conftest import next_monday

    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        booking = booking_create(
            trainer=trainer,
            client=booking_client_a,
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(10), tzinfo=ZoneInfo("Europe/London")),
        )
    api = as_user(manager_a)

    at_the_limit = api.patch(f"/api/bookings/{booking.pk}/", {"notes": "x" * TEXT_MAX_LENGTH})
    over = api.patch(f"/api/bookings/{booking.pk}/", {"notes": "y" * (TEXT_MAX_LENGTH + 1)})
    reason_over = api.post(f"/api/bookings/{booking.pk}/cancel/", {"reason": "z" * (REASON_MAX_LENGTH + 1)})

    assert at_the_limit.status_code == 200, at_the_limit.json()
    assert (over.status_code, list(over.json()["fields"])) == (400, ["notes"])
    assert (reason_over.status_code, list(reason_over.json()["fields"])) == (400, ["reason"])
    with tenant_context(studio_a):
        assert Booking.objects.filter(pk=booking.pk).values_list("notes", "status").get() == (
            "x" * TEXT_MAX_LENGTH,
            booking.status,
        )


def test_the_api_s_bounds_are_the_models_where_the_model_has_one():
    from tenant_apps.bookings.api import BookingCancelApi
    from tenant_apps.bookings.models import Booking
    from tenant_apps.trainers.api import TrainerDetailApi, TrainerListCreateApi

    expertise = Trainer._meta.get_field("expertise").base_field
    for serializer in (TrainerListCreateApi.TrainerCreateInput, TrainerDetailApi.TrainerUpdateInput):
        field = serializer().fields["expertise"]
        assert (field.child.max_length, field.max_length) == (EXPERTISE_MAX_LENGTH, EXPERTISE_MAX_COUNT)
    assert expertise.max_length == EXPERTISE_MAX_LENGTH
    reason = BookingCancelApi.BookingCancelInput().fields["reason"]
    assert reason.max_length == Booking._meta.get_field("cancellation_reason").max_length == REASON_MAX_LENGTH


def test_the_import_refuses_what_the_api_refuses():
    notes = "x" * (100 * 1024)
    tags = ",".join(f"tag{number}" for number in range(500))
    content = f'email,first_name,notes,tags\na@x.test,Ann,{notes},\nb@x.test,Bob,,"{tags}"\n'.encode()

    parsed = csv_io.parse(content)

    assert parsed.rows == []
    assert {(error.row, error.field) for error in parsed.errors} == {(2, "notes"), (3, "tags")}


def test_the_import_accepts_text_at_the_limits():
    notes = "x" * TEXT_MAX_LENGTH
    tags = ",".join(f"tag{number}" for number in range(TAGS_MAX_COUNT))
    content = f'email,first_name,notes,tags\na@x.test,Ann,{notes},"{tags}"\n'.encode()

    parsed = csv_io.parse(content)

    assert parsed.errors == []
    assert len(parsed.rows[0][1]["tags"]) == TAGS_MAX_COUNT


def test_the_import_endpoint_reports_an_over_long_notes_cell_as_a_row_error(as_user, manager_a, studio_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content = f"email,first_name,notes\nlong@x.test,Long,{'x' * (100 * 1024)}\n".encode()

    response = as_user(manager_a).post(
        "/api/clients/import/", {"file": SimpleUploadedFile("c.csv", content, "text/csv")}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "notes"
    with tenant_context(studio_a):
        assert not Client.objects.filter(email="long@x.test").exists()


# -- 7. names on one line ------------------------------------------------------------------------------------

BAD_NAMES = ["A\r\nBcc: x@evil.test", "Line\nbreak", "Tab\tbed", "Esc\x1b[31m", "Sep\u2028arator", "Del\x7f"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_studio_name_with_a_line_break_is_refused_by_the_platform_api(platform_client, platform_admin, name):
    from tests.conftest import token_of

    platform_client.credentials(HTTP_AUTHORIZATION=f"Token {token_of(platform_admin)}")

    response = platform_client.post(
        "/api/platform/studios/", {"name": name, "slug": "crlf", "owner_email": "o@crlf.test"}
    )

    assert response.status_code == 400
    assert "name" in response.json()["fields"]
    with schema_context("public"):
        assert not Studio.objects.filter(slug="crlf").exists()


def test_the_provisioning_service_refuses_a_name_with_a_line_break(db):
    with schema_context("public"), pytest.raises(ValidationFailed) as refusal:
        studio_create(name="A\r\nBcc: x@evil.test", slug="crlf", owner_email="o@crlf.test")

    assert "name" in refusal.value.fields
    with schema_context("public"):
        assert not Studio.objects.filter(slug="crlf").exists()


@pytest.mark.parametrize("name", BAD_NAMES)
def test_names_with_control_characters_are_refused_everywhere(as_user, owner_a, anon_a, studio_a, schedule_a, name):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        package = SessionPackageFactory()
    api = as_user(owner_a)

    answers = {
        "first_name": [
            api.post("/api/clients/", {"email": "n@x.test", "first_name": name}),
            api.patch("/api/users/me/", {"first_name": name}),
            api.post("/api/staff/", {"email": "s@x.test", "first_name": name, "last_name": "S", "role": "trainer"}),
            anon_a.post(
                "/api/users/register/",
                {"email": "r@x.test", "password": "Correct-Horse-42", "first_name": name, "last_name": "R"},
            ),
        ],
        "last_name": [api.post("/api/clients/", {"email": "n@x.test", "first_name": "N", "last_name": name})],
        "display_name": [api.patch(f"/api/trainers/{trainer.pk}/", {"display_name": name})],
        "name": [
            api.patch(f"/api/session-types/{session_type.pk}/", {"name": name}),
            api.patch(f"/api/packages/{package.pk}/", {"name": name}),
        ],
    }

    for field, responses in answers.items():
        for response in responses:
            assert response.status_code == 400, (field, response.content)
            assert field in response.json()["fields"]


@pytest.mark.parametrize("factory", [TrainerFactory, SessionTypeFactory, SessionPackageFactory])
def test_the_models_refuse_control_characters_in_names_too(studio_a, trainer_a, factory):
    from django.core.exceptions import ValidationError

    field = "display_name" if factory is TrainerFactory else "name"
    with tenant_context(studio_a):
        record = factory.build(**{field: "Two\nlines"}, **({"user": trainer_a} if factory is TrainerFactory else {}))
        with pytest.raises(ValidationError) as refusal:
            record.full_clean()

    assert field in refusal.value.message_dict


@pytest.mark.parametrize(
    ("model", "field"),
    [("client", "first_name"), ("client", "last_name"), ("user", "first_name"), ("user", "last_name")],
)
def test_people_s_names_refuse_control_characters_in_the_models(studio_a, model, field):
    from django.core.exceptions import ValidationError

    from tests.factories import ClientFactory, UserFactory

    factory = ClientFactory if model == "client" else UserFactory
    with tenant_context(studio_a):
        record = factory.build(**{field: "Ada\r\nBcc: x"})
        with pytest.raises(ValidationError) as refusal:
            record.full_clean()

    assert field in refusal.value.message_dict


def test_a_studio_renamed_in_the_admin_refuses_a_line_break(platform_admin, studio_a):
    """The admin's change form validates through the model, not the provisioning service."""
    from django import forms
    from django.test import Client as BrowserClient

    browser = BrowserClient(HTTP_HOST="localhost")
    browser.force_login(platform_admin)
    page = browser.get(f"/admin/tenants/studio/{studio_a.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name in form.fields and not isinstance(form.fields[name], forms.FileField)
    }
    data.update(name="Alpha\r\nBcc: x", **_inline_management_forms(page.context))

    answer = browser.post(f"/admin/tenants/studio/{studio_a.pk}/change/", data)

    assert answer.status_code == 200  # the form again, with its error
    assert "name" in answer.context["adminform"].form.errors
    studio_a.refresh_from_db()
    assert studio_a.name == "Alpha Strength"


def _inline_management_forms(context) -> dict:
    data = {}
    for formset in context.get("inline_admin_formsets", []):
        management = formset.formset.management_form
        data.update({f"{management.prefix}-{key}": value for key, value in management.initial.items()})
    return data


def test_the_import_refuses_a_name_with_a_line_break():
    parsed = csv_io.parse(b'email,first_name\na@x.test,"Two\r\nlines"\n')

    assert [(error.row, error.field) for error in parsed.errors] == [(2, "first_name")]


def test_a_name_in_any_script_with_accents_and_emoji_is_accepted(as_user, manager_a):
    response = as_user(manager_a).post(
        "/api/clients/", {"email": "u@x.test", "first_name": "Zoë Ångström-Łukasz", "last_name": "山田 🙂"}
    )

    assert response.status_code == 201


# -- 8. ids are whole numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1.5, True, "1.5", "1e0", " ", [1], {"id": 1}])
def test_an_id_in_a_body_that_is_not_a_whole_number_is_a_400(as_user, manager_a, studio_a, schedule_a, value):
    # schedule_a's trainer exists, so a truncated 1.5 or true would have found a trainer.
    response = as_user(manager_a).post(
        "/api/clients/", {"email": "f@x.test", "first_name": "F", "primary_trainer": value}
    )

    assert response.status_code == 400
    assert "primary_trainer" in response.json()["fields"]
    with tenant_context(studio_a):
        assert not Client.objects.filter(email="f@x.test").exists()


def test_a_fraction_of_a_real_id_is_not_that_id(as_user, manager_a, studio_a, schedule_a):
    trainer, _session_type = schedule_a

    response = as_user(manager_a).post(
        "/api/session-types/",
        json.dumps({"name": "Half", "duration_minutes": 30, "trainers": [trainer.pk + 0.5]}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "trainers" in response.json()["fields"]


@pytest.mark.parametrize("value", [1, "1"])
def test_an_id_as_a_number_or_its_digits_is_accepted(as_user, manager_a, studio_a, schedule_a, value):
    trainer, _ = schedule_a
    value = trainer.pk if value == 1 else str(trainer.pk)

    response = as_user(manager_a).post(
        "/api/clients/", {"email": "ok@x.test", "first_name": "Ok", "primary_trainer": value}
    )

    assert response.status_code == 201
    assert response.json()["primary_trainer"] == trainer.pk


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/bookings/", "client"),
        ("/api/bookings/", "trainer"),
        ("/api/bookings/", "session_type"),
        ("/api/clients/", "trainer"),
    ],
)
@pytest.mark.parametrize("value", ["1.5", "abc", str(2**64)])
def test_an_id_in_a_query_filter_that_is_not_a_whole_number_is_a_400(as_user, manager_a, path, parameter, value):
    response = as_user(manager_a).get(path, {parameter: value})

    assert response.status_code == 400
    assert parameter in response.json()["fields"]


def test_an_id_filter_still_filters(as_user, manager_a, studio_a, schedule_a):
    trainer, _ = schedule_a
    with tenant_context(studio_a):
        ClientFactory(primary_trainer=trainer)
        ClientFactory()

    response = as_user(manager_a).get("/api/clients/", {"trainer": str(trainer.pk)})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def _declared_fields(serializer_class):
    for name, field in serializer_class._declared_fields.items():
        yield name, getattr(field, "child_relation", field)


def test_every_input_serializer_and_filter_takes_ids_strictly():
    """A plain PrimaryKeyRelatedField or NumberFilter would take 1.5 as id 1 again."""
    loose, checked = [], 0
    for module_name in API_MODULES:
        module = importlib.import_module(module_name)
        classes = list(vars(module).values())
        classes += [inner for cls in classes if isinstance(cls, type) for inner in vars(cls).values()]
        for cls in classes:
            if isinstance(cls, type) and issubclass(cls, serializers.Serializer):
                for name, field in _declared_fields(cls):
                    if isinstance(field, serializers.PrimaryKeyRelatedField):
                        checked += 1
                        if not isinstance(field, StrictPrimaryKeyRelatedField):
                            loose.append(f"{module_name}.{cls.__name__}.{name}")
            if isinstance(cls, type) and hasattr(cls, "base_filters"):
                for name, declared in cls.base_filters.items():
                    if isinstance(declared, NumberFilter):
                        checked += 1
                        if not isinstance(declared, IdFilter):
                            loose.append(f"{module_name}.{cls.__name__}.{name}")

    assert checked >= 10  # the walk found the id fields there are
    assert loose == []
