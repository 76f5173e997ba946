"""Phone numbers as people type them, stored as E.164 (``+447911123456``).

A number typed without its country code (``07911 123456``) is read as a number of the studio's country; one
with ``+`` and its country code is read as it says, in any studio. The API's phone field
(shared_apps.core.fields.PhoneNumberField) and the client CSV import both parse here, so no way in accepts a
number another refuses.
"""

import phonenumbers

from shared_apps.core.tenancy import current_studio

# Longer than any number with spaces, brackets and an extension; phonenumbers itself stops at 250.
PHONE_INPUT_MAX_LENGTH = 64


class InvalidPhoneNumber(ValueError):
    pass


def studio_phone_region() -> str | None:
    """The region of numbers typed without a country code: the current studio's country (None on the platform)."""
    studio = current_studio()
    country = getattr(studio, "country", "") if studio is not None else ""
    # A few ISO countries (Antarctica, Bouvet Island...) have no numbering plan of their own.
    return country if country in phonenumbers.SUPPORTED_REGIONS else None


def phone_number_e164(text: str, *, region: str | None) -> str:
    """``text`` as E.164; InvalidPhoneNumber (with a message for people) when it isn't a valid number."""
    text = (text or "").strip()
    international = text.startswith("+") or text.startswith("00")
    if region is None and not international:
        raise InvalidPhoneNumber("Give the number with its country code, e.g. +44 7911 123456.")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidPhoneNumber(_invalid_message(region)) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(_invalid_message(region))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _invalid_message(region: str | None) -> str:
    if region is None:
        return "Enter a valid phone number with its country code, e.g. +44 7911 123456."
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL) if example else ""
    hint = f" (e.g. {national})" if national else ""
    return f"Enter a valid phone number: a {region} number{hint}, or any number with its country code (+…)."


def form_phone_e164(text: str) -> str:
    """A form's phone field, cleaned: blank, or E.164 read with the studio's country; a form error otherwise."""
    from django import forms

    if not text:
        return ""
    try:
        return phone_number_e164(text, region=studio_phone_region())
    except InvalidPhoneNumber as error:
        raise forms.ValidationError(str(error), code="invalid_phone") from error
