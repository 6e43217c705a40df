"""OpenAPI description of how callers are identified (imported by web/api/views.py to register it)."""
from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SessionCookieScheme(OpenApiAuthenticationExtension):
    target_class = "web.api.views.SessionCookieAuthentication"
    name = "sessionCookie"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The browser session that owns the clusters. The first POST /api/clusters/ "
                           "without it creates a session. Unsafe requests that send it must also send "
                           "the csrftoken cookie's value as the X-CSRFToken header.",
        }

    def get_security_requirement(self, auto_schema):
        return [{self.name: []}, {}]  # optional: a request without a session simply owns nothing


STRICT_REQUEST_COMPONENTS = ("ClusterCreateRequest", "ClockChangeRequest")


def forbid_unknown_fields(result, generator, request, public):
    """A postprocessing hook: the bodies whose unknown fields the API refuses say so in the schema."""
    schemas = result.get("components", {}).get("schemas", {})
    for name in STRICT_REQUEST_COMPONENTS:
        if name in schemas:
            schemas[name]["additionalProperties"] = False
    return result
