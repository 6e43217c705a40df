"""The REST API (Django REST Framework) for scripting clusters: see docs/api.md."""
