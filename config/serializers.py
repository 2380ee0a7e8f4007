"""Serializer pieces every app's API shares."""

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    """An input that refuses unknown and read-only fields by name instead of silently ignoring them.

    ``not_writable`` maps a refused field to the hint shown for it.
    """

    not_writable: dict[str, str] = {}

    def validate(self, attrs):
        refused = {
            field: [self.not_writable.get(field, "Unknown or read-only field.")]
            for field in getattr(self, "initial_data", {})
            if field not in self.fields
        }
        if refused:
            raise serializers.ValidationError(refused)
        return super().validate(attrs)
