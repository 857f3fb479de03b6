//! The names people type: their email address and their team's name.

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// An email address, trimmed and lowercased, so that two spellings of one address are one account.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EmailAddress(String);

impl EmailAddress {
    /// The longest address SMTP can carry (RFC 5321 path limit).
    pub const MAX_LEN: usize = 254;

    /// Normalises and checks an address typed into the `field` form field.
    pub fn parse_field(input: &str, field: &str) -> Result<Self, FieldError> {
        let normalised = input.trim().to_lowercase();
        if normalised.is_empty() {
            return Err(FieldError::new(field, "Enter an email address."));
        }
        if normalised.len() > Self::MAX_LEN {
            return Err(FieldError::new(field, "That email address is too long (254 characters at most)."));
        }
        if !email_address::EmailAddress::is_valid(&normalised) {
            return Err(FieldError::new(field, "Enter a valid email address, like name@example.com."));
        }
        Ok(Self(normalised))
    }

    /// Normalises and checks an address typed into the form field named `email`.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        Self::parse_field(input, "email")
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for EmailAddress {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<EmailAddress> for String {
    fn from(value: EmailAddress) -> Self {
        value.0
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EmailAddress({:?})", self.0)
    }
}

/// A team's display name: 1 to 80 characters, no control characters, surrounding space trimmed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TeamName(String);

impl TeamName {
    /// Longest accepted name, in characters.
    pub const MAX_CHARS: usize = 80;

    /// Trims and checks a team name typed into the `team_name` form field.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new("team_name", "Enter a team name."));
        }
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new("team_name", "Use at most 80 characters for the team name."));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(FieldError::new("team_name", "The team name cannot contain control characters."));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name as shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TeamName {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TeamName> for String {
    fn from(value: TeamName) -> Self {
        value.0
    }
}

impl std::fmt::Display for TeamName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        let email = EmailAddress::parse("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ada.lovelace@example.com");
    }

    #[test]
    fn email_errors_say_what_to_fix() {
        assert_eq!(EmailAddress::parse("   ").unwrap_err().message, "Enter an email address.");
        let invalid = EmailAddress::parse("not-an-address").unwrap_err();
        assert_eq!(invalid.field, "email");
        assert!(invalid.message.contains("valid email address"), "{invalid:?}");
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).unwrap_err().message.contains("too long"));
    }

    #[test]
    fn email_field_name_is_kept_for_other_forms() {
        assert_eq!(EmailAddress::parse_field("x", "invite_email").unwrap_err().field, "invite_email");
    }

    #[test]
    fn team_name_rules() {
        assert_eq!(TeamName::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert_eq!(TeamName::parse("").unwrap_err().field, "team_name");
        assert!(TeamName::parse(&"x".repeat(81)).is_err());
        assert!(TeamName::parse(&"é".repeat(80)).is_ok(), "limit counts characters, not bytes");
        assert!(TeamName::parse("a\u{7}b").is_err());
    }

    #[test]
    fn deserializing_parses() {
        let email: EmailAddress = serde_json::from_str("\"A@B.io\"").unwrap();
        assert_eq!(email.as_str(), "a@b.io");
        assert!(serde_json::from_str::<EmailAddress>("\"nope\"").is_err());
    }
}
