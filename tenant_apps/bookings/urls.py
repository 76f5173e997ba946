from django.urls import path

from tenant_apps.bookings import api, handover_api

urlpatterns = [
    path("bookings/", api.BookingListCreateApi.as_view(), name="bookings"),
    path("bookings/<int:booking_id>/", api.BookingDetailApi.as_view(), name="booking"),
    path("bookings/<int:booking_id>/confirm/", api.BookingConfirmApi.as_view(), name="booking-confirm"),
    path("bookings/<int:booking_id>/cancel/", api.BookingCancelApi.as_view(), name="booking-cancel"),
    path("bookings/<int:booking_id>/complete/", api.BookingCompleteApi.as_view(), name="booking-complete"),
    path("bookings/<int:booking_id>/no-show/", api.BookingNoShowApi.as_view(), name="booking-no-show"),
    path("bookings/<int:booking_id>/undo/", api.BookingUndoApi.as_view(), name="booking-undo"),
    path("bookings/<int:booking_id>/reschedule/", api.BookingRescheduleApi.as_view(), name="booking-reschedule"),
    path("bookings/<int:booking_id>/revoke-links/", api.BookingRevokeLinksApi.as_view(), name="booking-revoke-links"),
    path(
        "bookings/<int:booking_id>/attach-package/",
        api.BookingAttachPackageApi.as_view(),
        name="booking-attach-package",
    ),
    path(
        "bookings/<int:booking_id>/record-payment/",
        api.BookingRecordPaymentApi.as_view(),
        name="booking-record-payment",
    ),
    path(
        "bookings/<int:booking_id>/complimentary/", api.BookingComplimentaryApi.as_view(), name="booking-complimentary"
    ),
    path("bookings/<int:booking_id>/history/", api.BookingHistoryApi.as_view(), name="booking-history"),
    path("clients/<int:client_id>/bookings/", api.ClientBookingListApi.as_view(), name="client-bookings"),
    # A staff account is deactivated here, not in accounts: a trainer's future bookings are handed over.
    path("staff/<int:user_id>/deactivate/", handover_api.StaffDeactivateApi.as_view(), name="staff-deactivate"),
    path("me/bookings/", api.MyBookingListApi.as_view(), name="my-bookings"),
]
