"""The cross-tenant isolation check, run over every URL pattern the resolver knows.

URLs are enumerated from the resolver, not listed by hand, so a new page is covered the day it is
added. Each URL argument is filled from the world's `url_arguments` with an object of the demo
agency that belongs to Brand A (or from `plain_arguments` when it names no object); an argument
nobody has mapped yet fails the check, so whoever adds a new kind of URL argument has to say which
Brand A object fills it. Then, for GET and POST:

- an anonymous visitor is sent to the login page (tenant and object URLs);
- a user of another agency gets 404 (on every tenant URL and every URL naming an object), and
  sees no Brand A name on any other page; the other agency's admin also gets 404 when asking for
  our objects under their own agency's address (where only the view's scoping can refuse);
- a brand user of Brand B gets 404 on Brand A objects, and no Brand A name on any page;
- the demo agency's admin does not get 404 (so the arguments really point at existing objects
  and a 404 above means "not yours", not "not found").

The world keeps count of what was tried (`requests_tried` by caller, `argument_values` by URL
argument), for the security figures (tests/test_security_figures.py).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

# Public URLs, by name: reachable without signing in, holding no tenant data.
PUBLIC_URL_NAMES = frozenset(
    {
        "healthz",
        "login",
        "logout",
        "set_language",
        "password_reset",
        "password_reset_done",
        "password_set",
        "password_set_done",
    }
)
# The Django admin is for the portal's superusers; tests/test_isolation.py checks it separately.
# The REST API has its own matrix over every operation of its schema (tests/test_api_isolation.py).
SKIPPED_NAMESPACES = frozenset({"admin", "api"})

ARGUMENT = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    route: str
    name: str

    @property
    def arguments(self) -> list[str]:
        return [match["name"] for match in ARGUMENT.finditer(self.route)]

    def url(self, values: dict[str, object]) -> str:
        return "/" + ARGUMENT.sub(lambda match: str(values[match["name"]]), self.route)


def enumerate_routes(resolver: URLResolver | None = None) -> Iterator[Route]:
    """Every URL pattern of the project, with its full route and namespaced name."""

    def walk(patterns, prefix: str, namespace: str) -> Iterator[Route]:
        for pattern in patterns:
            route = str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                if pattern.namespace in SKIPPED_NAMESPACES:
                    continue
                yield from walk(pattern.url_patterns, prefix + route, inner)
            elif isinstance(pattern, URLPattern):
                if route.startswith("^"):
                    raise AssertionError(
                        f"{prefix}{route}: regular-expression URLs cannot be enumerated; "
                        "use path()."
                    )
                yield Route(route=prefix + route, name=f"{namespace}{pattern.name or '?'}")

    yield from walk((resolver or get_resolver()).url_patterns, "", "")


@dataclass
class World:
    """The objects and people the check uses (see conftest.py)."""

    demo_slug: str
    rival_slug: str  # the other agency, whose admin is rival_client
    url_arguments: dict[str, Callable[[], object]]  # argument name -> id of a Brand A object
    plain_arguments: dict[str, str]  # arguments that name no object (a kind, a format)
    owner_client: Client  # the demo agency's admin
    rival_client: Client  # a user of another agency
    brand_b_client: Client  # a brand user of Brand B in the demo agency
    brand_a_markers: list[str]  # names that must never reach a Brand B user
    # Filled by check_isolation: the cross-tenant requests sent, by caller (the agency's own
    # admin not counted), and the values each URL argument took.
    requests_tried: Counter = field(default_factory=Counter)
    argument_values: defaultdict = field(default_factory=lambda: defaultdict(set))


def check_isolation(world: World, routes: Iterable[Route] | None = None) -> list[str]:
    """Every isolation failure found, as readable lines; an empty list means isolated.
    `routes`: the routes to check (default: every route of the resolver); the security figures
    check a second round of foreign ids on some of them only."""
    failures: list[str] = []
    anonymous = Client()
    for route in enumerate_routes() if routes is None else routes:
        if route.name.split(":")[-1] in PUBLIC_URL_NAMES:
            continue
        values: dict[str, object] = {"agency_slug": world.demo_slug, **world.plain_arguments}
        unknown = [name for name in route.arguments if name not in values | world.url_arguments]
        if unknown:
            failures.append(
                f"{route.route} ({route.name}): no Brand A object for URL argument(s) "
                f"{', '.join(unknown)}; add them to the world in tests/test_isolation.py"
            )
            continue
        for name in route.arguments:
            if name not in values:
                values[name] = world.url_arguments[name]()
            world.argument_values[name].add(values[name])
        url = route.url(values)
        tenant_url = "agency_slug" in route.arguments
        object_arguments = [name for name in route.arguments if name in world.url_arguments]
        for method in ("get", "post"):
            label = f"{method.upper()} {url} ({route.name})"
            owner = getattr(world.owner_client, method)(url)
            if owner.status_code == 404 or owner.status_code >= 500:
                failures.append(f"{label}: the agency's own admin got {owner.status_code}")
            response = getattr(anonymous, method)(url)
            world.requests_tried["anonymous"] += 1
            if response.status_code != 302 or "/accounts/login/" not in response["Location"]:
                failures.append(
                    f"{label}: an anonymous visitor got {response.status_code}, not the login page"
                )
            response = getattr(world.rival_client, method)(url)
            world.requests_tried["another agency's user"] += 1
            if (tenant_url or object_arguments) and response.status_code != 404:
                failures.append(f"{label}: a user of another agency got {response.status_code}")
            elif response.status_code == 200:
                failures.extend(_leaks(label, "a user of another agency", response, world))
            if tenant_url and object_arguments:
                # The other agency's admin, inside their own agency, asking for our objects:
                # only the view's own scoping can refuse this, not the middleware.
                own_url = route.url({**values, "agency_slug": world.rival_slug})
                response = getattr(world.rival_client, method)(own_url)
                world.requests_tried["another agency's user, under their own agency"] += 1
                if response.status_code != 404:
                    failures.append(
                        f"{method.upper()} {own_url} ({route.name}): another agency's admin got "
                        f"{response.status_code} for our object in their own agency"
                    )
            response = getattr(world.brand_b_client, method)(url)
            world.requests_tried["another brand's user"] += 1
            if object_arguments and response.status_code != 404:
                failures.append(
                    f"{label}: a Brand B user got {response.status_code} on a Brand A object"
                )
            elif response.status_code == 200:
                failures.extend(_leaks(label, "a Brand B user", response, world))
    return failures


def _leaks(label: str, who: str, response, world: World) -> list[str]:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    body = raw.decode(errors="replace")
    leaked = [marker for marker in world.brand_a_markers if marker in body]
    return [f"{label}: {who} saw {', '.join(leaked)}"] if leaked else []
