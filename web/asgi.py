"""ASGI entry point: HTTP goes to Django, websockets to the Channels routes in web/routing.py, and
with several processes, connections about another process's cluster to that process."""
import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "web.settings")

# Django must be set up (apps loaded) before the routing imports consumers and their models.
django_asgi_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from web import tunnel  # noqa: E402
from web.heap import positive_number_from_env  # noqa: E402
from web.routing import websocket_urlpatterns  # noqa: E402

# The event loop (every socket) and worker threads (simulation, rendering) take turns holding the
# interpreter's lock. A thread that wants it waits for the holder up to the switch interval (5 ms
# by default), and the event loop wants it back after every socket call it makes: with a busy
# worker, each of the several calls between a learner's action and its pushed events cost up to
# 5 ms. A shorter interval hands the lock over sooner (docs/deploy.md, "Capacity").
sys.setswitchinterval(positive_number_from_env("PYTHON_SWITCH_INTERVAL_MS", 0.5) / 1000)

# With several processes, a connection about a cluster another process holds is forwarded there
# whole (web/tunnel.py); with one process the wrapper passes everything straight through.
application = tunnel.wrap(ProtocolTypeRouter(
    {
        "http": django_asgi_application,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
))
