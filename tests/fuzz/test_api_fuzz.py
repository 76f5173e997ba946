"""Fuzz both APIs from their own OpenAPI schemas (schemathesis): no input makes a server error, and every answer
is one the schema documents, in the documented shape.

The WSGI app runs in-process against the test database, inside each test's transaction (rolled back after):
studio A's owner on the studio host, a platform admin on the platform host. Generation is derandomized and
bounded per operation, so a run is reproducible and takes a few minutes at most.
"""

import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import PLATFORM_HOST, token_of

STUDIO_HOST = "alpha.localhost"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ_SETTINGS = settings(
    max_examples=25,
    derandomize=True,  # the fixed seed: every run generates the same cases
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def openapi_schema(urlconf: str):
    document = SchemaGenerator(urlconf=urlconf).get_schema(request=None, public=True)
    return schemathesis.openapi.from_dict(json.loads(OpenApiJsonRenderer().render(document)))


studio_schema = openapi_schema("config.urls_tenant").exclude(
    # Revokes the very token the fuzzer authenticates with; every later case would be a 401.
    path="/api/users/logout/",
)
platform_schema = openapi_schema("config.urls_public").exclude(
    # As above: it would revoke the platform admin's token mid-run.
    path="/api/users/logout/",
)


@pytest.fixture
def wsgi_app():
    """The project's WSGI handler, called in-process on the test's own connection and transaction.

    Django closes "old" connections at each request's start and end; inside the test's transaction that would
    close this connection, so (as Django's test client does) that hook is off while the fuzzer runs.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def owner_token(db, owner_a, studio_a) -> str:
    return token_of(owner_a, studio_a)


@pytest.fixture
def platform_admin_token(platform_admin) -> str:
    # An admin with two-factor set up: one without is refused everywhere (403), which would fuzz nothing.
    return token_of(platform_admin)


@studio_schema.parametrize()
@FUZZ_SETTINGS
def test_studio_api(case, wsgi_app, owner_token):
    case.call_and_validate(
        base_url=f"http://{STUDIO_HOST}",
        app=wsgi_app,
        headers={"Authorization": f"Token {owner_token}"},
        checks=CHECKS,
    )


@platform_schema.parametrize()
@FUZZ_SETTINGS
def test_platform_api(case, wsgi_app, platform_admin_token):
    case.call_and_validate(
        base_url=f"http://{PLATFORM_HOST}",
        app=wsgi_app,
        headers={"Authorization": f"Token {platform_admin_token}"},
        checks=CHECKS,
    )
