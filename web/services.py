"""Service functions: the one place where views and websocket consumers change or read state.

Views (HTTP, htmx, REST) and Channels consumers stay thin and call the functions in this module;
each takes keyword-only, type-annotated arguments (`def start_cluster(*, learner: str, seed: int)`),
so every caller names what it passes and the same behaviour is reachable from every interface.
"""
