"""OpenAPI: the enrolment token is a bearer scheme of its own (drf-spectacular extension)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class OtpEnrolmentTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.OtpEnrolmentAuthentication"
    name = "otpEnrolmentToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The short-lived enrolment token of an otp_required login answer (details.enrolment_token).",
        }
