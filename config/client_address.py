"""The client's address: one rule for the login limits (django-axes), the throttles and the request log.

``TRUSTED_PROXIES`` proxies stand in front of Django, each appending the address it was reached from
to ``X-Forwarded-For``; the client is the ``TRUSTED_PROXIES``-th entry from the right. Whatever a
client writes into the header itself stays further left and is never read, however it is written
(django-ipware's parser, by contrast, lets an unclosed quote hide the entries after it). No proxy
(0): ``REMOTE_ADDR``, and the header is ignored.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The client's address as the nearest trusted proxy saw it (``REMOTE_ADDR`` without proxies).

    An entry that is not an IP address (only a misconfigured proxy writes one there) falls back to
    ``REMOTE_ADDR``: the request is counted against the proxy rather than against nobody.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    proxies = settings.TRUSTED_PROXIES
    if not proxies or not forwarded:
        return remote
    entries = forwarded.split(",")
    try:
        return str(ipaddress.ip_address(entries[-min(proxies, len(entries))].strip()))
    except ValueError:
        return remote
