"""A page that isn't there answers 404 with a page in the host's own look: the studio's site (its name, its
theme, no platform name) or the platform's; the API keeps its JSON error."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_studio_host_answers_404_in_the_studios_look(studio_b):
    response = Client(HTTP_HOST=f"{studio_b.slug}.localhost").get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in page and studio_b.name in page
    assert "theme-midnight" in page and "trainerhub" not in page.lower()


def test_the_platform_host_answers_404_in_its_own_look():
    response = Client(HTTP_HOST="localhost").get("/no-such-page/")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.content.decode()


def test_the_api_keeps_its_json_404(studio_a):
    response = Client(HTTP_HOST=f"{studio_a.slug}.localhost").get("/api/no-such-thing/")
    assert response.status_code == 404 and response.json()["code"]
