"""The role matrix (``tests.security.matrix``): every route, method and role answers as the table says,
and every route the URL conf serves has a row."""

from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from tests.assertions import error_of
from tests.security.matrix import RULES, Rule, expectations, rules_by_route


def _case(rule: Rule, method: str, role: str, expected) -> pytest.param:
    return pytest.param(rule, method, role, expected, id=f"{method} {rule.name} {role}")


def answer(response, method: str) -> int | str:
    """The status, with the error code after it for a 4xx or 5xx (checked to be in the one error shape).

    A HEAD answer has no body: its status alone."""
    if response.status_code < 400 or method == "HEAD":
        return response.status_code
    return f"{response.status_code} {error_of(response)['code']}"


def call(client, method: str, path: str, body: dict | None, *, multipart: bool):
    function = getattr(client, method.lower())
    if body is None:
        return function(path)
    return function(path, body, format="multipart" if multipart else "json")


@pytest.mark.parametrize(("rule", "method", "role", "expected"), [_case(*case) for case in expectations()])
def test_route_answers_each_role_as_the_table_says(world, rule, method, role, expected):
    session = world.session(role)
    session.client.raise_request_exception = False  # a crash is answered as a client sees it: a 500
    session.client.handler.enforce_csrf_checks = rule.csrf
    path = rule.path.format(w=world)
    assert resolve(path).url_name == rule.name
    body = rule.body(world, session) if rule.body is not None and method == rule.method else None

    response = call(session.client, method, path, body, multipart=rule.multipart)

    actual = answer(response, method)
    if method == "HEAD":
        expected = int(str(expected).split()[0])
    shown = b"(streamed)" if response.streaming else response.content[:300]
    assert actual == expected, f"answered {actual!r}, the table says {expected!r}: {shown!r}"


# --- the table covers the URL conf


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def served_routes() -> dict[str, set[str] | None]:
    """URL name -> the methods its view serves (None for a plain function view, which takes any method)."""
    served: dict[str, set[str] | None] = {}
    for route, pattern in _walk(get_resolver().url_patterns):
        if route.startswith("admin/"):
            continue
        assert pattern.name, f"{route} has no name"
        assert pattern.name not in served, f"two routes are named {pattern.name}"
        callback = pattern.callback
        actions = getattr(callback, "actions", None)  # a DRF viewset route: its method -> action map
        view_class = getattr(callback, "view_class", None)
        if actions is not None:
            methods = {method.upper() for method in actions} | {"OPTIONS"}
        elif view_class is not None:
            methods = {method.upper() for method in view_class.http_method_names if hasattr(view_class, method)}
        else:
            served[pattern.name] = None
            continue
        served[pattern.name] = methods | ({"HEAD"} if "GET" in methods else set())
    return served


def ruled_methods(methods: set[str]) -> set[str]:
    return methods | ({"HEAD"} if "GET" in methods else set()) | {"OPTIONS"}


def test_every_served_route_has_a_rule():
    served = served_routes()
    ruled = {name: ruled_methods(set(methods)) for name, methods in rules_by_route().items()}

    assert sorted(set(served) - set(ruled)) == [], "routes without a rule in tests/security/matrix.py"
    assert sorted(set(ruled) - set(served)) == [], "rules for routes the URL conf does not serve"
    mismatched = {
        name: {"served": sorted(methods), "ruled": sorted(ruled[name])}
        for name, methods in served.items()
        if methods is not None and methods != ruled[name]
    }
    assert mismatched == {}


def test_every_rule_names_its_route_once():
    assert len({(rule.name, rule.method) for rule in RULES}) == len(RULES)
