"""WSGI entry point for Keystone under gunicorn (runs inside the SERVICE venv).

Keystone parses ``sys.argv`` with oslo.config when the app is built; under
gunicorn that is gunicorn's own command line, and the worker dies with
"unrecognized arguments" (exit 2) in a loop.  Reset argv before importing.
The config file comes from ``OS_KEYSTONE_CONFIG_FILES`` set by the harness.
"""

import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402

__all__ = ["application"]
