//! Approvals: who needs their posts approved before they are scheduled, how many approvals a post
//! needs, and who may give them. A team setting (owners and admins change it); the store applies
//! it to Compose, the batch form and the API alike (an API token acts with its role).

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::role::Role;

/// Whose posts need approval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalRule {
    /// Nobody's: posts are scheduled as they are written.
    #[default]
    Off,
    /// Editors' posts; owners and admins schedule their own.
    Editors,
    /// Every member's.
    Everyone,
}

/// Who may approve (never their own post).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approvers {
    /// Owners and admins.
    #[default]
    Admins,
    /// Editors too.
    Editors,
}

/// A team's approval settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    /// Whose posts need approval.
    pub rule: ApprovalRule,
    /// How many approvals a post needs: 1 or 2.
    pub approvals: u8,
    /// Who may approve.
    pub approvers: Approvers,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        ApprovalPolicy { rule: ApprovalRule::Off, approvals: 1, approvers: Approvers::Admins }
    }
}

impl ApprovalPolicy {
    /// The settings form's values, refused with the field to fix.
    pub fn parse(rule: &str, approvals: &str, approvers: &str) -> Result<ApprovalPolicy, FieldError> {
        let rule = match rule.trim() {
            "off" => ApprovalRule::Off,
            "editors" => ApprovalRule::Editors,
            "everyone" => ApprovalRule::Everyone,
            _ => return Err(FieldError::new("rule", "Choose whose posts need approval: nobody's, editors', or everyone's.")),
        };
        let approvals = match approvals.trim() {
            "1" => 1,
            "2" => 2,
            _ => return Err(FieldError::new("approvals", "A post needs 1 or 2 approvals.")),
        };
        let approvers = match approvers.trim() {
            "admins" => Approvers::Admins,
            "editors" => Approvers::Editors,
            _ => return Err(FieldError::new("approvers", "Choose who approves: owners and admins, or editors too.")),
        };
        Ok(ApprovalPolicy { rule, approvals, approvers })
    }

    /// Whether a post written by someone with `role` waits for approval.
    pub fn needs_review(&self, role: Role) -> bool {
        match self.rule {
            ApprovalRule::Off => false,
            ApprovalRule::Editors => role == Role::Editor,
            ApprovalRule::Everyone => role.can_edit(),
        }
    }

    /// Whether someone with `role` may approve (another member's) post.
    pub fn may_approve(&self, role: Role) -> bool {
        match self.approvers {
            Approvers::Admins => role.can_manage_members(),
            Approvers::Editors => role.can_edit(),
        }
    }

    /// The settings in words: "Editors' posts need 1 approval, by an owner or admin."
    pub fn describe(&self) -> String {
        let whose = match self.rule {
            ApprovalRule::Off => return "Posts are scheduled as they are written: nobody's need approval.".to_owned(),
            ApprovalRule::Editors => "Editors' posts need",
            ApprovalRule::Everyone => "Every member's posts need",
        };
        let count = if self.approvals == 1 { "1 approval" } else { "2 approvals" };
        let by = match self.approvers {
            Approvers::Admins => "an owner or admin",
            Approvers::Editors => "an owner, admin or editor",
        };
        format!("{whose} {count}, each by {by} other than the author, before they are scheduled.")
    }

    /// The rule's name in the database and forms.
    pub fn rule_str(&self) -> &'static str {
        match self.rule {
            ApprovalRule::Off => "off",
            ApprovalRule::Editors => "editors",
            ApprovalRule::Everyone => "everyone",
        }
    }

    /// The approvers' name in the database and forms.
    pub fn approvers_str(&self) -> &'static str {
        match self.approvers {
            Approvers::Admins => "admins",
            Approvers::Editors => "editors",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_needs_review_and_who_approves() {
        let editors = ApprovalPolicy::parse("editors", "1", "admins").unwrap();
        assert!(editors.needs_review(Role::Editor) && !editors.needs_review(Role::Admin) && !editors.needs_review(Role::Owner));
        assert!(editors.may_approve(Role::Admin) && !editors.may_approve(Role::Editor));
        let everyone = ApprovalPolicy::parse("everyone", "2", "editors").unwrap();
        assert!(everyone.needs_review(Role::Owner) && !everyone.needs_review(Role::Viewer));
        assert!(everyone.may_approve(Role::Editor) && !everyone.may_approve(Role::Viewer));
        assert!(!ApprovalPolicy::default().needs_review(Role::Editor));
        assert_eq!(ApprovalPolicy::parse("some", "1", "admins").unwrap_err().field, "rule");
        assert_eq!(ApprovalPolicy::parse("off", "3", "admins").unwrap_err().field, "approvals");
        assert!(everyone.describe().starts_with("Every member's posts need 2 approvals"));
    }
}
