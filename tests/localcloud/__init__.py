"""A real OpenStack Keystone + Glance on 127.0.0.1 for glance-catalog tests.

    from tests.localcloud import ensure_up, stop

    cloud = ensure_up()          # installs once, starts if not running
    ...                          # OS_CLIENT_CONFIG_FILE=cloud.clouds_yaml
    if cloud.started_here:
        stop()

CLI: ``python -m tests.localcloud up [--fresh] [--db postgresql] | down | status``.
Glance's database is sqlite (one worker) unless ``ensure_up(db="postgresql")``,
``--db postgresql`` or ``GLANCE_DB=postgresql`` selects PostgreSQL (4 workers).
Clouds in clouds.yaml: ``local`` (admin), ``local-a`` (alice, member of
project-a), ``local-b`` (bob, member of project-b), ``local-r2`` (``local`` in RegionTwo).

A second, multi-store Glance (file stores fast and archive) behind the same Keystone:
``multistore.ensure_glance()``, ``up --stores fast,archive`` or ``GC_GLANCE_STORES``; its
own port (``GC_GLANCE_STORES_PORT``, default the Glance port + 1) and clouds.yaml.

A second region: ``regions.ensure_region_two()`` or ``up --regions 2`` starts a Glance listed in
Keystone's catalog as region RegionTwo (``GC_GLANCE_R2_PORT``, default the Glance port + 3);
cloud ``local-r2`` (the admin of ``local``, region_name RegionTwo) reaches it.
"""

from .harness import (
    ALLOWED_IMPORT_PORTS,
    SOURCE_PORTS,
    LocalCloud,
    ensure_up,
    env_line,
    status,
    stop,
)
from .install import ensure_service_venv, glance_port, keystone_port
from .procs import LocalCloudError
from .provision import (
    ADMIN_PASSWORD,
    ADMIN_PROJECT,
    ADMIN_USER,
    CLOUDS,
    TENANT_USERS,
)
from .sources import serve_sources

__all__ = [
    "ADMIN_PASSWORD",
    "ADMIN_PROJECT",
    "ADMIN_USER",
    "ALLOWED_IMPORT_PORTS",
    "CLOUDS",
    "SOURCE_PORTS",
    "TENANT_USERS",
    "LocalCloud",
    "LocalCloudError",
    "ensure_service_venv",
    "ensure_up",
    "env_line",
    "glance_port",
    "keystone_port",
    "serve_sources",
    "status",
    "stop",
]
