from django.urls import path

from shop.users import views

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="register"),
    path("auth/token/", views.LoginView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.RefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("auth/password-reset/", views.PasswordResetRequestView.as_view(), name="password-reset"),
    path("auth/password-reset/confirm/", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("users/me/", views.MeView.as_view(), name="me"),
    path("users/me/password/", views.ChangePasswordView.as_view(), name="change-password"),
    path("users/me/addresses/", views.AddressListView.as_view(), name="address-list"),
    path("users/me/addresses/<int:address_id>/", views.AddressDetailView.as_view(), name="address-detail"),
]
