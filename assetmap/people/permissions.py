"""Who may do what: the roles, and the one table of permissions every route names.

Every view declares one permission with `assetmap.web.guard.requires`; the guard refuses a
request whose view declares none, so a new route cannot be reachable by accident, and a test
walks every route against every role using this table.
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "admin"
COORDINATOR = "coordinator"
LINK_WORKER = "link_worker"


@dataclass(frozen=True)
class Role:
    slug: str
    label: str
    description: str


ROLES: tuple[Role, ...] = (
    Role(ADMIN, "Admin", "Manages user accounts and settings, and reads the audit log."),
    Role(
        COORDINATOR,
        "Coordinator",
        "Creates, edits, archives, imports and reviews assets; sees referrals.",
    ),
    Role(
        LINK_WORKER,
        "Link worker",
        "Searches for clients, makes plans and referrals, sees professional-only details.",
    ),
)
ROLE_SLUGS = frozenset(r.slug for r in ROLES)

# Who holds each permission. EVERYONE includes people who are not signed in;
# SIGNED_IN is any active account whatever its role.
EVERYONE = "everyone"
SIGNED_IN = "signed_in"

PERMISSIONS: dict[str, frozenset[str]] = {
    "view_public": frozenset({EVERYONE}),
    "sign_in": frozenset({EVERYONE}),
    "ask_to_join": frozenset({EVERYONE}),
    "own_account": frozenset({SIGNED_IN}),
    "view_professional": frozenset({COORDINATOR, LINK_WORKER}),
    "edit_assets": frozenset({COORDINATOR}),
    "import_assets": frozenset({COORDINATOR}),
    "see_join_requests": frozenset({COORDINATOR}),
    "make_plans": frozenset({LINK_WORKER}),
    "record_referrals": frozenset({LINK_WORKER}),
    "see_demand": frozenset({COORDINATOR}),
    "manage_users": frozenset({ADMIN}),
    "read_audit_log": frozenset({ADMIN}),
    "report_problems": frozenset({EVERYONE}),
    "see_problem_reports": frozenset({COORDINATOR}),
    # An organiser answers "Is this still right?" from a signed link, with no account.
    "answer_reminder": frozenset({EVERYONE}),
    "moderate_changes": frozenset({COORDINATOR}),
}


def allows(permission: str, role: str | None) -> bool:
    """Whether someone with `role` (None when not signed in) holds `permission`.

    An unknown permission allows nobody: a typo fails closed.
    """
    holders = PERMISSIONS.get(permission, frozenset())
    if EVERYONE in holders:
        return True
    if role is None:
        return False
    return SIGNED_IN in holders or role in holders


def role_label(slug: str) -> str:
    for role in ROLES:
        if role.slug == slug:
            return role.label
    return slug
