"""The users context's HTML pages, under /account/ (outside /api/: browsers, not API clients)."""

from django.urls import path

from shop.users import views

urlpatterns = [
    path("reset-password/", views.password_reset_page, name="password-reset-page"),
]
