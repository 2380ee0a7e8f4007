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


class RefreshTokenInputSerializer(serializers.Serializer):
    refresh_token = serializers.CharField()


class TokenPairOutputSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
    refresh_token = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")
