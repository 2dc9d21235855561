"""Payments routes under /api/v1/payments/."""

from django.urls import path

from shop.payments import views

urlpatterns = [
    path("<int:payment_id>/", views.PaymentDetailView.as_view(), name="payment-detail"),
    path("webhooks/<str:gateway>/", views.WebhookView.as_view(), name="payment-webhook"),
    path(
        "simulated/authenticate/<str:reference>/",
        views.SimulatedAuthenticationView.as_view(),
        name="payment-simulated-authenticate",
    ),
]
