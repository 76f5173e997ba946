from django.contrib import admin

from shared_apps.messaging.models import SmsOptOut, SmsUsage


@admin.register(SmsOptOut)
class SmsOptOutAdmin(admin.ModelAdmin):
    """Platform admins see who opted out and may take a number out by hand (a written request to opt back in);
    numbers are added by STOP replies and Twilio's 21610, never typed in."""

    list_display = ["phone", "source", "created"]
    list_filter = ["source"]
    search_fields = ["phone"]
    readonly_fields = ["phone", "source", "created"]

    def has_add_permission(self, request):
        return False


@admin.register(SmsUsage)
class SmsUsageAdmin(admin.ModelAdmin):
    """Counted by the sender only: read-only here."""

    list_display = ["studio", "month", "count"]
    list_filter = ["month"]
    search_fields = ["studio__name", "studio__slug"]
    list_select_related = ["studio"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
