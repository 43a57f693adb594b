"""A second region behind the local Keystone: a further Glance (multistore.py's machinery, its
own port, config, sqlite database and file store ``fs`` in ``run/glance-r2/``) listed in
Keystone's catalog as the image service of region ``RegionTwo``; the default Glance stays the
one of ``RegionOne``. Both Glances enable glance-download and may pull from each other.

The default clouds.yaml always has the cloud ``local-r2``: the admin of ``local`` in
RegionTwo (its Glance answers once this module started it)::

    glance = ensure_region_two()      # starts Keystone + the default Glance too
    ...                               # --cloud local-r2
    if glance.started_here:
        stop_glance(glance.name)

``up --regions 2`` (``make glance-up REGIONS=2``) starts it too; ``harness.stop``
(``make glance-down``) stops it with the other further Glances.
"""

from __future__ import annotations

from typing import Any

from . import procs, provision
from .configs import REGION_TWO
from .harness import ensure_up, glance_download_ports
from .install import paths, region_two_port
from .multistore import ExtraGlance, start_glance, stop_glance
from .services import extra_glance, services

REGION_TWO_NAME = "glance-r2"
REGION_TWO_CLOUD = "local-r2"

__all__ = [
    "REGION_TWO",
    "REGION_TWO_CLOUD",
    "REGION_TWO_NAME",
    "ensure_region_two",
    "region_two_status",
    "stop_glance",
]


def ensure_region_two(db: str | None = None) -> ExtraGlance:
    """Start (or reuse) RegionTwo's Glance on ``region_two_port()`` and make sure Keystone
    lists it (public, internal and admin endpoints). ``db`` is the default Glance's database
    (see harness.ensure_up), which is started too. Its ``clouds_yaml`` is the default
    clouds.yaml (cloud ``local-r2``); its one store is ``fs``, like the default Glance's."""
    cloud = ensure_up(db=db)
    p = paths()
    with procs.file_lock(p.lock):
        ks, _ = services(p)
        gl = extra_glance(p, REGION_TWO_NAME, region_two_port())
        # Listed before it starts: a catalog entry of a Glance that is down only fails the
        # requests made to it, and the endpoint is right as soon as it answers.
        provision.register_region(ks.url, gl.url, REGION_TWO)
        return start_glance(
            p,
            gl,
            ("fs",),
            port_var="GC_GLANCE_R2_PORT",
            allowed_ports=glance_download_ports(),
            clouds_yaml=cloud.clouds_yaml,
        )


def region_two_status() -> dict[str, Any] | None:
    """``status()``'s entry for RegionTwo's Glance, or None when it was never started."""
    p = paths()
    gl = extra_glance(p, REGION_TWO_NAME, region_two_port())
    if not (p.run / gl.name).is_dir():
        return None
    pid = gl.running(p)
    return {"pid": pid, "url": gl.url, "healthy": bool(pid) and gl.healthy()}
