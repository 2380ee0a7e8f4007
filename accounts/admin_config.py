"""``django.contrib.admin`` whose default site (``admin.site``) asks staff for their second factor.

Kept apart from ``accounts.apps`` (and free of model imports): it is loaded while the app registry fills.
"""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "accounts.admin_site.StaffAdminSite"
