"""The Django admin site, with django-otp: staff who must use two-factor sign in with a code too.

The same rule as the API (``accounts.selectors.otp_required``): staff with a confirmed device always;
every staff account when ``STAFF_2FA_REQUIRED`` is on (they enrol through the API first). A wrong code
counts as a failed login (django-axes). ``OTPMiddleware`` remembers the verified device in the session.
"""

from django import forms
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from accounts.authentication import login_failure_record
from accounts.exceptions import OtpInvalid, OtpThrottled
from accounts.selectors import otp_enrolled, otp_required
from accounts.services.two_factor import otp_verify


class StaffAuthenticationForm(AdminAuthenticationForm):
    otp = forms.CharField(
        required=False,
        max_length=32,
        label="Two-factor code",
        help_text="From your authenticator app, or a recovery code. Leave empty if you have not enrolled.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is None or not otp_required(user=user):
            return cleaned
        if not otp_enrolled(user=user):
            raise ValidationError(
                "Two-factor authentication is required: enrol an authenticator app first (POST /auth/2fa/totp).",
                code="otp_enrolment_required",
            )
        code = cleaned.get("otp")
        if not code:
            raise ValidationError(
                "Enter the code from your authenticator app (or a recovery code).", code="otp_required"
            )
        try:
            user.otp_device = otp_verify(user=user, otp=code)  # django_otp.login() stores it at sign-in
        except OtpInvalid as exc:
            login_failure_record(request=self.request, email=user.email)
            raise ValidationError(exc.message, code=exc.code) from exc
        except OtpThrottled as exc:
            raise ValidationError(exc.message, code=exc.code) from exc
        return cleaned


class StaffAdminSite(AdminSite):
    login_form = StaffAuthenticationForm
    login_template = "accounts/admin_login.html"

    def has_permission(self, request) -> bool:
        """Staff, and verified by a device when they must use two-factor (else they sign in again, with a code)."""
        if not super().has_permission(request):
            return False
        user = request.user
        is_verified = getattr(user, "is_verified", None)  # installed by django_otp's OTPMiddleware
        return bool(is_verified and is_verified()) or not otp_required(user=user)
