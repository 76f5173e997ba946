"""The platform admin's view of SMS opt-outs and usage: platform admins only, read-only usage, no opt-out typed
in by hand."""

from datetime import date

import pytest
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role
from shared_apps.messaging.models import SmsOptOut, SmsUsage
from tests.conftest import host_of, make_user

pytestmark = pytest.mark.django_db


def test_a_platform_admin_sees_opt_outs_and_usage_but_adds_neither(platform_admin, client, studio_a):
    SmsOptOut.objects.create(phone="+447911123456", source="stop_reply")
    SmsUsage.objects.create(studio=studio_a, month=date(2031, 5, 1), count=42)
    client.defaults["HTTP_HOST"] = "localhost"
    client.force_login(platform_admin)

    opt_outs = client.get("/admin/messaging/smsoptout/")
    usage = client.get("/admin/messaging/smsusage/")

    assert opt_outs.status_code == 200 and "+447911123456" in opt_outs.text
    assert usage.status_code == 200 and "Alpha Strength" in usage.text and ">42<" in usage.text
    assert client.get("/admin/messaging/smsoptout/add/").status_code == 403
    assert client.get("/admin/messaging/smsusage/add/").status_code == 403


def test_a_platform_user_who_is_not_staff_is_sent_to_log_in(client):
    user = make_user(None, email="someone@platform.test", role=Role.CLIENT)
    client.defaults["HTTP_HOST"] = "localhost"
    client.force_login(user)

    assert client.get("/admin/messaging/smsoptout/").status_code == 302


def test_a_studio_owner_has_no_admin_on_the_studio_host(owner_a, client, studio_a):
    client.defaults["HTTP_HOST"] = host_of(studio_a)
    with tenant_context(studio_a):
        client.force_login(owner_a)

    assert client.get("/admin/messaging/smsoptout/").status_code == 404
