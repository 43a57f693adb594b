"""The member steps of one shared image: add, accept (as the member), remove. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from catalog.model import DesiredImage, Visibility
from reconciler.core.actions import Action, ActionKind, FieldChange
from reconciler.core.plan import Conflict, Note


@dataclass
class MemberSteps:
    actions: list[Action] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)


def member_steps(
    desired: DesiredImage,
    members: Mapping[str, str],
    image_id: str | None,
    projects: Mapping[str, str],
    unresolved: Mapping[str, str] | None = None,
) -> MemberSteps:
    """Members to add, accept and remove so that the image's ``members`` (project id ->
    status) match the manifest; a status only the member can change is a note.

    ``projects`` maps the manifest's project names and ids to ids; one missing is a conflict
    at the member's entry in the manifest, saying why (``unresolved``: reference -> why).
    """
    steps = MemberSteps()
    wanted = {}
    for spec in desired.members if desired.visibility is Visibility.SHARED else ():
        project_id = projects.get(spec.project)
        if project_id is None:
            why = (unresolved or {}).get(spec.project)
            steps.conflicts.append(
                Conflict(
                    desired.name,
                    why or f"member project '{spec.project}' was not resolved",
                    "name an existing project, or give its id",
                    str(spec.position or desired.position),
                )
            )
            continue
        wanted[project_id] = spec
    for project_id, spec in sorted(wanted.items()):
        path = f"members.{spec.project}"
        status = members.get(project_id)
        if status is None:
            steps.actions.append(
                Action(
                    ActionKind.ADD_MEMBER,
                    desired.name,
                    image_id,
                    (FieldChange(path, None, "pending"),),
                    reason="not a member yet",
                    member=project_id,
                )
            )
            status = "pending"
        if status == "accepted":
            continue
        if spec.accept_with is not None:
            steps.actions.append(
                Action(
                    ActionKind.ACCEPT_MEMBER,
                    desired.name,
                    image_id,
                    (FieldChange(path, status, "accepted"),),
                    reason=f"accept_with: {spec.accept_with}",
                    member=project_id,
                    accept_with=spec.accept_with,
                )
            )
        elif project_id in members:
            steps.notes.append(
                Note(
                    desired.name,
                    f"member {spec.project} ({project_id}) has status {status}; only that "
                    "project can accept (give the member accept_with: CLOUD to accept it)",
                )
            )
    names = {project_id: ref for ref, project_id in projects.items()}
    for project_id, status in sorted(members.items()):
        if project_id not in wanted:
            steps.actions.append(
                Action(
                    ActionKind.REMOVE_MEMBER,
                    desired.name,
                    image_id,
                    (FieldChange(f"members.{names.get(project_id, project_id)}", status, None),),
                    reason="not a member in the manifest",
                    member=project_id,
                )
            )
    return steps
