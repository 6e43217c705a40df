"""ASGI entry point: HTTP goes to Django, websockets to the Channels routes in web/routing.py, and
with several processes, connections about another process's cluster to that process."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

# Django must be set up (apps loaded) before the routing imports consumers and their models.
django_asgi_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from web import tunnel  # noqa: E402
from web.routing import websocket_urlpatterns  # noqa: E402

# With several processes, a connection about a cluster another process holds is forwarded there
# whole (web/tunnel.py); with one process the wrapper passes everything straight through.
application = tunnel.wrap(ProtocolTypeRouter(
    {
        "http": django_asgi_application,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
))
