"""Twilio's webhooks, on the platform host (our sender is shared by every studio): replies to our SMS (STOP and
START) and status callbacks. Each request is verified with Twilio's RequestValidator against the URL Twilio
called (query included) and the posted fields; anything else is refused with a 403. Each does one idempotent
write, so they are answered at once rather than queued."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import tenant_context
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from shared_apps.core.phone_numbers import InvalidPhoneNumber, phone_number_e164
from shared_apps.messaging.models import OptOutSource
from shared_apps.messaging.services import sms_opt_out, sms_opt_out_remove
from tenant_apps.notifications.sms import sms_status_record
from tenants.models import Studio

# Twilio's default opt-out and opt-in keywords (its Advanced Opt-Out answers the person; we only record them).
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "UNSTOP", "YES"}


def _is_from_twilio(request: HttpRequest) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not settings.TWILIO_AUTH_TOKEN:
        return False
    # build_absolute_uri: the scheme behind the proxy comes from SECURE_PROXY_SSL_HEADER, the host is the
    # platform's (ALLOWED_HOSTS); the validator tries the URL with and without its port, as Twilio signs either.
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    return validator.validate(request.build_absolute_uri(), request.POST, signature)


def _e164(number: str) -> str:
    """The sender's number in E.164, or "" (a short code, a channel address such as whatsapp:…)."""
    if not number.startswith("+"):
        return ""
    try:
        return phone_number_e164(number, region=None)
    except InvalidPhoneNumber:
        return ""


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> HttpResponse:
    """A reply to our sender: STOP (and its synonyms) opts the number out of every studio's SMS, START opts it
    back in. With Advanced Opt-Out, Twilio names the keyword's type (OptOutType) for custom keywords too."""
    if not _is_from_twilio(request):
        return HttpResponseForbidden()
    phone = _e164(request.POST.get("From", ""))
    word = request.POST.get("Body", "").strip().upper()
    opt_out_type = request.POST.get("OptOutType", "").upper()
    if phone and (word in STOP_WORDS or opt_out_type == "STOP"):
        sms_opt_out(phone=phone, source=OptOutSource.STOP_REPLY)
    elif phone and (word in START_WORDS or opt_out_type == "START"):
        sms_opt_out_remove(phone=phone)
    # No reply of ours: an empty TwiML response.
    return HttpResponse(str(MessagingResponse()), content_type="application/xml")


@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    """A status callback of an SMS we sent: ?studio=<schema>&notification=<id> (signed with the URL) name the
    row, which must also carry the MessageSid Twilio reports. An unknown studio or row changes nothing (200:
    Twilio has nothing to retry)."""
    if not _is_from_twilio(request):
        return HttpResponseForbidden()
    studio = Studio.objects.filter(schema_name=request.GET.get("studio", "")).first()
    notification_id = request.GET.get("notification", "")
    if studio is not None and notification_id.isdigit():
        with tenant_context(studio):
            sms_status_record(
                notification_id=int(notification_id),
                message_sid=request.POST.get("MessageSid", ""),
                message_status=request.POST.get("MessageStatus", ""),
                error_code=request.POST.get("ErrorCode", ""),
            )
    return HttpResponse()
