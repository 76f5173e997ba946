from django.urls import path

from tenant_apps.site import account, book, manage, views

urlpatterns = [path("", views.HomeView.as_view(), name="landing")]

# Manage by link and a guest's confirmation link, from the mails (tenant_apps/site/manage.py).
urlpatterns += [
    path("b/<str:token>/", manage.ManageBookingView.as_view(), name="manage_booking"),
    path("b/<str:token>/cancel/", manage.CancelBookingView.as_view(), name="manage_booking_cancel"),
    path("b/<str:token>/reschedule/", manage.RescheduleBookingView.as_view(), name="manage_booking_reschedule"),
    path("book/confirm/<str:token>/", manage.ConfirmHoldView.as_view(), name="book_confirm_hold"),
]

# My account: a signed-in client's sessions, packages, notifications and profile (tenant_apps/site/account.py).
urlpatterns += [
    path("account/", account.SessionsView.as_view(), name="account-sessions"),
    path("account/packages/", account.PackagesView.as_view(), name="account-packages"),
    path("account/notifications/", account.NotificationsView.as_view(), name="account-notifications"),
    path("account/profile/", account.ProfileView.as_view(), name="account-profile"),
]

# Book: session type → trainer → week → details → done, for signed-in clients (tenant_apps/site/book.py).
urlpatterns += [
    path("book/", book.BookView.as_view(), name="book"),
    path("book/details/", book.BookDetailsView.as_view(), name="book_details"),
    path("book/done/<int:booking_id>/", book.BookDoneView.as_view(), name="book_done"),
    path("book/done/<int:booking_id>/calendar.ics", book.BookCalendarView.as_view(), name="book_calendar"),
]
