"""WSGI entry point for Keystone under gunicorn (runs inside the SERVICE venv).

Keystone parses ``sys.argv`` with oslo.config when the app is built; under
gunicorn that is gunicorn's own command line, and the worker dies with
"unrecognized arguments" (exit 2) in a loop.  Reset argv before importing.
The config file comes from ``OS_KEYSTONE_CONFIG_FILES`` set by the harness.
Keystone 26 (2024.2) and newer have ``keystone.wsgi.api``; Keystone 25 (2024.1) builds the
same application with ``keystone.server.wsgi.initialize_public_application()``.
"""

import importlib.util
import sys
from typing import Any

sys.argv = sys.argv[:1]

application: Any
if importlib.util.find_spec("keystone.wsgi") is not None:
    from keystone.wsgi.api import application
else:
    from keystone.server.wsgi import initialize_public_application

    application = initialize_public_application()

__all__ = ["application"]
