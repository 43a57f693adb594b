"""Keystone provisioning over its REST API (stdlib urllib only, idempotent).

``keystone-manage bootstrap`` has already created the admin user/project,
the admin/manager/member/reader/service roles and the identity endpoints;
this module adds the rest: the ``service`` project and ``glance`` user for
keystonemiddleware, two tenant projects with one member each, and the image
service with its endpoints.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .configs import REGION, REGION_TWO

ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin-secret"
ADMIN_PROJECT = "admin"
SERVICE_PROJECT = "service"
GLANCE_SERVICE_USER = "glance"
GLANCE_SERVICE_PASSWORD = "glance-secret"

# username -> (password, project, role)
TENANT_USERS: dict[str, tuple[str, str, str]] = {
    "alice": ("alice-secret", "project-a", "member"),
    "bob": ("bob-secret", "project-b", "member"),
}

# clouds.yaml entry name -> (username, password, project)
CLOUDS: dict[str, tuple[str, str, str]] = {
    "local": (ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT),
    "local-a": ("alice", *TENANT_USERS["alice"][:2]),
    "local-b": ("bob", *TENANT_USERS["bob"][:2]),
}

# clouds.yaml entries in another region: name -> (an entry of CLOUDS, region_name). The entry
# is always there; its Glance runs only once regions.ensure_region_two() started it.
REGION_CLOUDS: dict[str, tuple[str, str]] = {
    "local-r2": ("local", REGION_TWO),
}

_TIMEOUT = 30


class KeystoneError(RuntimeError):
    pass


def _request(
    method: str,
    url: str,
    *,
    body: Any = None,
    token: str | None = None,
) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    try:
        with urllib.request.urlopen(req, timeout=_TIMEOUT) as resp:
            raw = resp.read()
            status, headers = resp.status, dict(resp.headers.items())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        raise KeystoneError(
            f"{method} {url} -> HTTP {exc.code}: {raw[:500].decode(errors='replace')}"
        ) from None
    payload = json.loads(raw) if raw else None
    return status, headers, payload


def password_token(keystone_url: str, user: str, password: str, project: str) -> str:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "domain": {"id": "default"}, "password": password}
                },
            },
            "scope": {"project": {"name": project, "domain": {"id": "default"}}},
        }
    }
    _, headers, _ = _request("POST", f"{keystone_url}/v3/auth/tokens", body=body)
    token = headers.get("X-Subject-Token") or headers.get("x-subject-token")
    if not token:
        raise KeystoneError("keystone returned no X-Subject-Token")
    return token


class _Admin:
    def __init__(self, keystone_url: str) -> None:
        self.base = f"{keystone_url}/v3"
        self.token = password_token(keystone_url, ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)

    def call(self, method: str, path: str, body: Any = None, **query: str) -> Any:
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return _request(method, url, body=body, token=self.token)[2]

    def find(self, collection: str, **query: str) -> dict[str, Any] | None:
        items = self.call("GET", f"/{collection}", **query)[collection]
        return items[0] if items else None

    def ensure_project(self, name: str) -> str:
        found = self.find("projects", name=name, domain_id="default")
        if found:
            return str(found["id"])
        body = {"project": {"name": name, "domain_id": "default", "enabled": True}}
        return str(self.call("POST", "/projects", body)["project"]["id"])

    def ensure_user(self, name: str, password: str, project_id: str) -> str:
        found = self.find("users", name=name, domain_id="default")
        if found:
            uid = str(found["id"])
            self.call("PATCH", f"/users/{uid}", {"user": {"password": password, "enabled": True}})
            return uid
        body = {
            "user": {
                "name": name,
                "domain_id": "default",
                "password": password,
                "default_project_id": project_id,
                "enabled": True,
            }
        }
        return str(self.call("POST", "/users", body)["user"]["id"])

    def ensure_role(self, name: str) -> str:
        found = self.find("roles", name=name)
        if found:
            return str(found["id"])
        return str(self.call("POST", "/roles", {"role": {"name": name}})["role"]["id"])

    def grant(self, project_id: str, user_id: str, role_id: str) -> None:
        self.call("PUT", f"/projects/{project_id}/users/{user_id}/roles/{role_id}")

    def ensure_region(self, region: str) -> None:
        if not any(r["id"] == region for r in self.call("GET", "/regions")["regions"]):
            self.call("POST", "/regions", {"region": {"id": region}})

    def ensure_image_service(self, glance_url: str, region: str = REGION) -> None:
        """The image service and its public, internal and admin endpoints in ``region``
        (those of other regions are left as they are)."""
        svc = self.find("services", type="image")
        if svc is None:
            body = {"service": {"type": "image", "name": "glance", "enabled": True}}
            svc = self.call("POST", "/services", body)["service"]
        sid = svc["id"]
        endpoints = self.call("GET", "/endpoints", service_id=sid)["endpoints"]
        existing = {e["interface"]: e for e in endpoints if e.get("region_id") == region}
        for interface in ("public", "internal", "admin"):
            want = {"url": glance_url, "region_id": region, "enabled": True}
            ep = existing.get(interface)
            if ep is None:
                body = {"endpoint": {"service_id": sid, "interface": interface, **want}}
                self.call("POST", "/endpoints", body)
            elif ep.get("url") != glance_url or not ep.get("enabled", True):
                self.call("PATCH", f"/endpoints/{ep['id']}", {"endpoint": want})


def register_region(keystone_url: str, glance_url: str, region: str) -> None:
    """Create ``region`` in Keystone (if needed) and list ``glance_url`` as its image service
    endpoints (idempotent)."""
    adm = _Admin(keystone_url)
    adm.ensure_region(region)
    adm.ensure_image_service(glance_url, region)


def provision(keystone_url: str, glance_url: str) -> dict[str, str]:
    """Create/repair everything; return project name -> id."""
    adm = _Admin(keystone_url)
    role_ids = {r: adm.ensure_role(r) for r in ("admin", "member", "reader", "service")}
    projects = {
        name: adm.ensure_project(name)
        for name in (ADMIN_PROJECT, SERVICE_PROJECT, *{p for _, p, _ in TENANT_USERS.values()})
    }
    glance_uid = adm.ensure_user(
        GLANCE_SERVICE_USER, GLANCE_SERVICE_PASSWORD, projects[SERVICE_PROJECT]
    )
    adm.grant(projects[SERVICE_PROJECT], glance_uid, role_ids["service"])
    for user, (password, project, role) in TENANT_USERS.items():
        uid = adm.ensure_user(user, password, projects[project])
        adm.grant(projects[project], uid, role_ids[role])
    adm.ensure_image_service(glance_url)
    return dict(sorted(projects.items()))
