from rest_framework import serializers

from accounts.models import Role


class RoleField(serializers.ChoiceField):
    """Roles travel lower-case in the API (``inventory_manager``) and are stored upper-case."""

    def __init__(self, **kwargs):
        super().__init__(choices=[value.lower() for value in Role.values], **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = data.lower()
        return super().to_internal_value(data).upper()

    def to_representation(self, value):
        return value.lower()


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, trim_whitespace=False, max_length=128)
    role = RoleField(required=False, help_text="Defaults to customer; only an admin may choose another role.")


class UserOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    role = RoleField()


class LoginInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(trim_whitespace=False, max_length=128)
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="Staff who use two-factor: the 6-digit code from the authenticator app, or a recovery code.",
    )


class RefreshTokenInputSerializer(serializers.Serializer):
    refresh_token = serializers.CharField()


class TokenPairOutputSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    refresh_token = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")


class PasswordResetInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(trim_whitespace=False, max_length=128)


class PasswordChangeInputSerializer(serializers.Serializer):
    old_password = serializers.CharField(trim_whitespace=False, max_length=128)
    new_password = serializers.CharField(trim_whitespace=False, max_length=128)


class TotpEnrolInputSerializer(serializers.Serializer):
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,
        help_text="Only when re-enrolling: a current code (or a recovery code) of the existing authenticator.",
    )


class TotpEnrolmentOutputSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="The TOTP secret (base32), for typing into the app.")
    otpauth_uri = serializers.CharField(help_text="otpauth:// URI, usually shown as a QR code.")


class OtpInputSerializer(serializers.Serializer):
    otp = serializers.CharField(max_length=32, help_text="A code from the new authenticator app.")


class RecoveryCodesOutputSerializer(serializers.Serializer):
    recovery_codes = serializers.ListField(
        child=serializers.CharField(),
        help_text="Single-use codes that stand in for the app (send one as otp). Shown once: store them safely.",
    )
