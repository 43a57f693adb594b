"""Member projects by name or id: looked up in Keystone with the run's credentials."""

from __future__ import annotations

import re
from collections.abc import Iterable

from reconciler.errors import CloudError, UnresolvedProject
from reconciler.gateway.session import CloudSession, glance_message

# Keystone ids are uuid4 hex; some deployments use dashed UUIDs.
PROJECT_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")


def find_project_id(session: CloudSession, reference: str) -> str:
    """The id of the project ``reference`` (a name or an id) names, through Keystone; an unknown
    project, a name several projects have, or a name these credentials may not look up is an
    UnresolvedProject; Keystone failing to answer, a CloudError."""
    looks_like_id = PROJECT_ID.fullmatch(reference) is not None
    by_name = session.keystone(
        "/projects", f"member project '{reference}'", params={"name": reference}
    )
    if by_name.status_code == 403 and looks_like_id:
        return reference
    if by_name.status_code == 403:
        raise UnresolvedProject(
            f"member project '{reference}': these credentials may not look projects up by "
            "name in Keystone; give the project id instead"
        )
    if by_name.status_code != 200:
        raise CloudError(
            f"member project '{reference}': Keystone answered HTTP {by_name.status_code}: "
            f"{glance_message(by_name)}"
        )
    body = session.json(by_name, f"member project '{reference}'")
    listed = body.get("projects", []) if isinstance(body, dict) else []
    matches = sorted(str(project["id"]) for project in listed)
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise UnresolvedProject(
            f"member project '{reference}': {len(matches)} projects have this name "
            f"({', '.join(matches)}); give the id"
        )
    if looks_like_id:
        by_id = session.keystone(f"/projects/{reference}", f"member project '{reference}'")
        if by_id.status_code in (200, 403):
            return reference
    raise UnresolvedProject(f"member project '{reference}' does not exist in Keystone")


def lookup_projects(
    session: CloudSession, references: Iterable[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """(project name or id -> id, reference -> why it names no single project: it does not
    exist, several have the name, or these credentials cannot look names up). The planner
    makes each unresolved member a conflict at its manifest entry; Keystone failing to answer
    is still a CloudError."""
    resolved: dict[str, str] = {}
    unresolved: dict[str, str] = {}
    for reference in sorted(set(references)):
        try:
            resolved[reference] = find_project_id(session, reference)
        except UnresolvedProject as error:
            unresolved[reference] = " ".join(error.lines)
    return resolved, unresolved
