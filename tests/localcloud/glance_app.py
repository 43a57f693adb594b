"""The WSGI application of whichever Glance the service venv holds (runs inside it).

Glance 29 (2024.2) and newer: ``glance.wsgi.api.application``. Glance 28 (2024.1) has no
``glance.wsgi`` package; its WSGI entry point is ``glance.common.wsgi_app.init_app()``, which
reads the same ``$OS_GLANCE_CONFIG_DIR`` and is what its own ``glance/wsgi/api.py`` later
came to call.
"""

from __future__ import annotations

import importlib.util
from typing import Any

application: Any
# find_spec rather than try/except ImportError: Glance logs the exception being handled (as
# the cause of an unrelated warning) if the app is built inside an except block.
if importlib.util.find_spec("glance.wsgi") is not None:
    from glance.wsgi.api import application
else:
    from glance.common import wsgi_app

    application = wsgi_app.init_app()

__all__ = ["application"]
