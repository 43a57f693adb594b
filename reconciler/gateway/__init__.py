"""The only package that talks to the cloud (through openstacksdk's authenticated session).

GlanceGateway (glance_gateway.py, on GlanceImages in glance_images.py) reads a Snapshot in a
few paginated requests and performs one API call per action kind; ``session`` holds the
connection and the retry rules, ``transfer`` moves image data (bytes it is given: it opens no
file and no URL), ``imports`` follows Glance's imports and ``stores`` copies data between
Glance's stores and removes it from them.
"""

from reconciler.gateway.glance_gateway import GlanceGateway
from reconciler.gateway.glance_images import READ_CONCURRENCY

__all__ = ["READ_CONCURRENCY", "GlanceGateway"]
