use serde::{Deserialize, Serialize};

/// What a member (or an API token) may do in its team.
///
/// | role   | read | compose and publish | manage members and settings | is never removed last |
/// |--------|------|---------------------|-----------------------------|------------------------|
/// | owner  | yes  | yes                 | yes                         | yes                    |
/// | admin  | yes  | yes                 | yes                         |                        |
/// | editor | yes  | yes                 |                             |                        |
/// | viewer | yes  |                     |                             |                        |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "store", derive(sqlx::Type))]
#[cfg_attr(feature = "store", sqlx(type_name = "member_role", rename_all = "lowercase"))]
pub enum Role {
    /// Created the team (or was promoted); a team always keeps at least one.
    Owner,
    /// Manages members and settings.
    Admin,
    /// Composes and publishes.
    Editor,
    /// Reads only.
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Editor, Role::Viewer];

    /// May invite, remove and re-role members, and change team settings.
    pub fn can_manage_members(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// May change anything at all (compose, schedule, connect accounts). Viewers may not.
    pub fn can_edit(self) -> bool {
        !matches!(self, Role::Viewer)
    }

    /// The lesser of the two roles (the one that may do less): what a member's API token acts
    /// with when the token's role and its creator's differ.
    pub fn at_most(self, other: Role) -> Role {
        let rank = |role: Role| Role::ALL.iter().position(|r| *r == role).unwrap_or(Role::ALL.len());
        if rank(self) >= rank(other) { self } else { other }
    }

    /// The lowercase name used in URLs, forms and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Viewer => "viewer",
        }
    }

    /// The capitalised name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Editor => "Editor",
            Role::Viewer => "Viewer",
        }
    }

    /// Parses a role name as a form or the CLI submits it (case-insensitive).
    pub fn parse(input: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str().eq_ignore_ascii_case(input.trim()))
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_follow_the_table() {
        assert!(Role::Owner.can_manage_members() && Role::Admin.can_manage_members());
        assert!(!Role::Editor.can_manage_members() && !Role::Viewer.can_manage_members());
        assert!(Role::Editor.can_edit());
        assert!(!Role::Viewer.can_edit());
    }

    #[test]
    fn at_most_is_the_lesser_role() {
        assert_eq!(Role::Owner.at_most(Role::Editor), Role::Editor);
        assert_eq!(Role::Viewer.at_most(Role::Admin), Role::Viewer);
        assert_eq!(Role::Admin.at_most(Role::Admin), Role::Admin);
    }

    #[test]
    fn parse_round_trips() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(Role::parse(role.label()), Some(role));
        }
        assert_eq!(Role::parse("superuser"), None);
    }
}
