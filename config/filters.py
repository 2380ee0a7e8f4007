"""Filters every app's list endpoints share."""

import django_filters
from django import forms


class IdFilter(django_filters.NumberFilter):
    """An id: a whole number (``1.5`` or ``abc`` is a 400, not quietly rounded or ignored)."""

    field_class = forms.IntegerField
