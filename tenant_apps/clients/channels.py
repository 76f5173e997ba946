"""How a client is reached: reminders by email, texts with their consent, the zone their times are given in.

Consent to texts is kept as a record: when it was given and how (ConsentSource). It is given for a number, so a
new number is a new consent; turning texts off clears the record. A number that replied STOP to the platform's
sender (messaging.SmsOptOut) may still be saved: the outbox sends it nothing until it texts START.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone as django_timezone

from shared_apps.accounts.services import user_update
from shared_apps.core.exceptions import ApplicationError, ValidationFailed
from shared_apps.core.phone_numbers import InvalidPhoneNumber, phone_number_e164, studio_phone_region
from shared_apps.core.validators import validate_timezone
from shared_apps.messaging.models import SmsOptOut
from tenant_apps.clients.models import Client, ConsentSource

SMS_NEEDS_A_NUMBER = "Give the mobile number the texts should go to."
CLIENT_ERASED = "This client's data was erased; the record can't be edited."


def _phone_e164(text: str, *, stored: str) -> str:
    text = (text or "").strip()
    # The stored number is not parsed again: a number saved before the numbering plans changed stays savable.
    if not text or text == stored:
        return text
    try:
        return phone_number_e164(text, region=studio_phone_region())
    except InvalidPhoneNumber as error:
        raise ValidationFailed(str(error), fields={"phone": [str(error)]}) from error


def _timezone(name: str) -> str:
    if name:
        try:
            validate_timezone(name)
        except ValidationError as error:
            raise ValidationFailed(error.messages[0], fields={"timezone": error.messages}) from error
    return name


@transaction.atomic
def client_channels_update(
    *,
    client: Client,
    email_reminders: bool,
    sms_opt_in: bool,
    phone: str,
    timezone: str,
    source: str,
    now: datetime | None = None,
) -> Client:
    """Set how ``client`` is reached. ``phone`` as typed (read as a number of the studio's country unless it
    has its country code) or E.164; ``timezone`` an IANA name, blank for the trainer's; ``source`` who turned
    texts on (a ConsentSource), recorded with ``now`` when they are turned on or the number changes.

    A changed number is the account's too (as when changed on the profile), so the two never disagree.
    """
    if source not in ConsentSource.values:
        raise ValueError(f"not a consent source: {source}")
    # Locked: a staff edit or a START reply's consent, committed meanwhile, is not overwritten with older values.
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.erased_at:
        raise ApplicationError(CLIENT_ERASED)
    stored_phone = str(client.phone) if client.phone else ""
    phone = _phone_e164(phone, stored=stored_phone)
    timezone = _timezone(timezone)
    if sms_opt_in and not phone:
        raise ValidationFailed(SMS_NEEDS_A_NUMBER, fields={"phone": [SMS_NEEDS_A_NUMBER]})

    if phone != stored_phone and client.user_id is not None:
        # The account's profile change follows through to this record (clients.receivers) in this transaction.
        user_update(user=client.user, phone=phone)
    if not sms_opt_in:
        client.sms_consent_at, client.sms_consent_source = None, ""
    elif not client.sms_opt_in or phone != stored_phone:
        client.sms_consent_at, client.sms_consent_source = now or django_timezone.now(), source
    client.email_reminders = email_reminders
    client.sms_opt_in = sms_opt_in
    client.phone = phone
    client.timezone = timezone
    client.save(
        update_fields=[
            "email_reminders", "sms_opt_in", "sms_consent_at", "sms_consent_source", "phone", "timezone", "updated",
        ]
    )  # fmt: skip
    return client


def phone_opted_out(phone) -> bool:
    """Whether the number replied STOP (or the carrier says it did): no text goes to it until it texts START."""
    return bool(phone) and SmsOptOut.objects.filter(phone=str(phone)).exists()
