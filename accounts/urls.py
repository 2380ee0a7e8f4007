from django.urls import re_path

from accounts import views

urlpatterns = [
    re_path(r"^auth/register/?$", views.RegisterView.as_view(), name="auth-register"),
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/refresh/?$", views.RefreshView.as_view(), name="auth-refresh"),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^auth/me/?$", views.MeView.as_view(), name="auth-me"),
    re_path(r"^auth/password-reset/?$", views.PasswordResetView.as_view(), name="auth-password-reset"),
    re_path(
        r"^auth/password-reset/confirm/?$",
        views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    re_path(r"^auth/password-change/?$", views.PasswordChangeView.as_view(), name="auth-password-change"),
    re_path(r"^auth/2fa/totp/?$", views.TotpEnrolView.as_view(), name="auth-2fa-totp"),
    re_path(r"^auth/2fa/totp/confirm/?$", views.TotpConfirmView.as_view(), name="auth-2fa-totp-confirm"),
]
