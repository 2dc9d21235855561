"""The customer JSON API of the users context. Every object is scoped to ``request.user``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from shop.users import api, selectors, services
from shop.users.api import InvalidResetToken, WeakPassword
from shop.users.models import Address, User
from shop.users.serializers import (
    AcceptedOutput,
    AddressInput,
    AddressOutput,
    ChangePasswordInput,
    LoginInput,
    LogoutInput,
    PasswordResetConfirmInput,
    PasswordResetRequestInput,
    ProfileInput,
    RefreshInput,
    RegisterInput,
    TokenPairOutput,
    UserOutput,
)
from shop.web.pages import render_page
from shop.web.pagination import PagePagination, page_schema
from shop.web.throttles import (
    LOGIN_THROTTLES,
    LoginFailureCeiling,
    PasswordResetConfirmRateThrottle,
    PasswordResetRateThrottle,
    RegisterRateThrottle,
    remember_login_device,
)

PROBLEM = OpenApiResponse(description="problem+json with a stable `code`")


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


class RegisterView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [RegisterRateThrottle]

    @extend_schema(request=RegisterInput, responses={201: UserOutput, 400: PROBLEM, 409: PROBLEM}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.register_user(**data.validated_data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class LoginView(TokenObtainPairView):
    """Obtain an access/refresh pair. Throttled per IP, per account and client, and per account
    for failures from unknown clients; a success leaves a device cookie that marks this client as
    the account's own (``shop.web.throttles``)."""

    throttle_classes = LOGIN_THROTTLES
    serializer_class = LoginInput

    @extend_schema(responses={200: TokenPairOutput, 400: PROBLEM, 401: PROBLEM, 429: PROBLEM}, tags=["auth"])
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            response = super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            LoginFailureCeiling().record_failure(request)
            raise
        remember_login_device(request, response)
        return response


class RefreshView(TokenRefreshView):
    """Rotate a refresh token: the old one is blacklisted, and using it again gets 401."""

    serializer_class = RefreshInput

    @extend_schema(responses={200: TokenPairOutput, 400: PROBLEM, 401: PROBLEM}, tags=["auth"])
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


class LogoutView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=LogoutInput, responses={204: None, 400: PROBLEM}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = LogoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.logout(refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetRequestView(APIView):
    """Always 202, whether or not the email has an account: no account enumeration."""

    permission_classes = [AllowAny]
    throttle_classes = [PasswordResetRateThrottle]  # per IP only: no per-email 429 a stranger could cause

    @extend_schema(request=PasswordResetRequestInput, responses={202: AcceptedOutput, 400: PROBLEM}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = PasswordResetRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.request_password_reset(email=data.validated_data["email"])
        return Response(
            {"detail": "If an account exists for this email, a reset link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordResetConfirmView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [PasswordResetConfirmRateThrottle]

    @extend_schema(request=PasswordResetConfirmInput, responses={204: None, 400: PROBLEM}, tags=["auth"])
    def post(self, request: Request) -> Response:
        data = PasswordResetConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.confirm_password_reset(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserOutput, 401: PROBLEM}, tags=["users"])
    def get(self, request: Request) -> Response:
        return Response(UserOutput(_user(request)).data)

    @extend_schema(
        request=ProfileInput, responses={200: UserOutput, 400: PROBLEM, 403: PROBLEM, 409: PROBLEM}, tags=["users"]
    )
    def patch(self, request: Request) -> Response:
        data = ProfileInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.update_profile(user=_user(request), **data.validated_data)
        return Response(UserOutput(user).data)


class ChangePasswordView(APIView):
    """Change the password; every other session's refresh token is revoked."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ChangePasswordInput, responses={200: TokenPairOutput, 400: PROBLEM, 403: PROBLEM}, tags=["users"]
    )
    def post(self, request: Request) -> Response:
        data = ChangePasswordInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(services.change_password(user=_user(request), **data.validated_data))


class AddressListView(APIView):
    query_parameters = PagePagination.query_parameters
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="users_me_addresses_list", **page_schema(AddressOutput), tags=["users"])
    def get(self, request: Request) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(selectors.addresses_of(user_id=_user(request).pk), request, view=self)
        return paginator.get_paginated_response(AddressOutput(page, many=True).data)

    @extend_schema(request=AddressInput, responses={201: AddressOutput, 400: PROBLEM, 409: PROBLEM}, tags=["users"])
    def post(self, request: Request) -> Response:
        data = AddressInput(data=request.data)
        data.is_valid(raise_exception=True)
        address = services.create_address(user=_user(request), **data.validated_data)
        return Response(AddressOutput(address).data, status=status.HTTP_201_CREATED)


class AddressDetailView(APIView):
    """Someone else's address id is a 404, exactly like a missing one."""

    permission_classes = [IsAuthenticated]

    def _get(self, request: Request, address_id: int) -> Address:
        address = selectors.address_of(user_id=_user(request).pk, address_id=address_id)
        if address is None:
            raise api.AddressNotFound()
        return address

    @extend_schema(responses={200: AddressOutput, 404: PROBLEM}, tags=["users"])
    def get(self, request: Request, address_id: int) -> Response:
        """One of your addresses. Someone else's address id is a 404, exactly like a missing one."""
        return Response(AddressOutput(self._get(request, address_id)).data)

    @extend_schema(
        request=AddressInput(partial=True), responses={200: AddressOutput, 400: PROBLEM, 404: PROBLEM}, tags=["users"]
    )
    def patch(self, request: Request, address_id: int) -> Response:
        """Change the fields you send; the others stay as they are."""
        address = self._get(request, address_id)
        data = AddressInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(AddressOutput(services.update_address(address=address, **data.validated_data)).data)

    @extend_schema(responses={204: None, 404: PROBLEM}, tags=["users"])
    def delete(self, request: Request, address_id: int) -> Response:
        """Remove the address from your book (orders keep their own copy of it)."""
        services.delete_address(address=self._get(request, address_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- pages --------------------------------------------------------------------------------------
@sensitive_post_parameters("new_password", "new_password_again")
@require_http_methods(["GET", "POST"])
def password_reset_page(request: HttpRequest) -> HttpResponse:
    """The built-in page behind the reset email's link: a form for the new password, then the
    answer. The uid and token travel as hidden fields; the page itself sends no Referer."""
    source = request.POST if request.method == "POST" else request.GET
    uid, token = source.get("uid", ""), source.get("token", "")
    if not services.reset_link_is_valid(uid=uid, token=token):
        return render_page(request, "users/reset_password.html", {"state": "invalid"}, status=400)
    context: dict[str, Any] = {"state": "form", "uid": uid, "token": token, "errors": []}
    if request.method == "GET":
        return render_page(request, "users/reset_password.html", context)
    password, again = request.POST.get("new_password", ""), request.POST.get("new_password_again", "")
    if password != again:
        context["errors"] = ["The two passwords are not the same."]
        return render_page(request, "users/reset_password.html", context, status=400)
    try:
        services.confirm_password_reset(uid=uid, token=token, new_password=password)
    except WeakPassword as exc:
        context["errors"] = exc.extra.get("errors", {}).get("password") or [exc.detail]
        return render_page(request, "users/reset_password.html", context, status=400)
    except InvalidResetToken:  # used in another tab meanwhile
        return render_page(request, "users/reset_password.html", {"state": "invalid"}, status=400)
    return render_page(request, "users/reset_password.html", {"state": "done"})
