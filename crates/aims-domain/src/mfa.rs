//! Two-step sign-in rules: which members an organisation requires it of, and how the codes a
//! person types are read (spaces and dashes ignored, letters in either case).

use crate::ValidationErrors;
use crate::identity::Role;

/// How many single-use recovery codes an enrolment (or a regeneration) gives.
pub const RECOVERY_CODES: usize = 10;

/// Whom an organisation requires a second step of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaRequired {
    Off,
    /// Owners and admins: the roles that manage members, tokens and settings.
    Admins,
    Everyone,
}

impl MfaRequired {
    pub const ALL: [MfaRequired; 3] = [MfaRequired::Off, MfaRequired::Admins, MfaRequired::Everyone];

    pub fn as_str(self) -> &'static str {
        match self {
            MfaRequired::Off => "off",
            MfaRequired::Admins => "admins",
            MfaRequired::Everyone => "everyone",
        }
    }

    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationErrors> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| ValidationErrors::single(field, "invalid_choice", "one of off, admins, everyone"))
    }

    /// Does this rule require a second step of a member with `role`?
    pub fn applies_to(self, role: Role) -> bool {
        match self {
            MfaRequired::Off => false,
            MfaRequired::Admins => matches!(role, Role::Owner | Role::Admin),
            MfaRequired::Everyone => true,
        }
    }

    /// The rule in words, for the 403 that names it and the settings page.
    pub fn describe(self) -> &'static str {
        match self {
            MfaRequired::Off => "two-step sign-in is optional",
            MfaRequired::Admins => "this organisation requires two-step sign-in of owners and admins",
            MfaRequired::Everyone => "this organisation requires two-step sign-in of every member",
        }
    }
}

/// What a person typed, as a code: spaces and dashes dropped, letters upper-cased.
pub fn normalise_code(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect()
}

/// Is this (normalised) code the six digits of an authenticator app, rather than a recovery
/// code?
pub fn is_totp_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// `text` in groups of `size` separated by `separator`, for reading aloud or typing.
pub fn grouped(text: &str, size: usize, separator: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(size.max(1)).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join(separator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_applies_by_role() {
        assert!(!MfaRequired::Off.applies_to(Role::Owner));
        assert!(MfaRequired::Admins.applies_to(Role::Owner));
        assert!(MfaRequired::Admins.applies_to(Role::Admin));
        assert!(!MfaRequired::Admins.applies_to(Role::Editor));
        assert!(MfaRequired::Everyone.applies_to(Role::Viewer));
        assert_eq!(MfaRequired::parse("mfa_required", "admins").ok(), Some(MfaRequired::Admins));
        assert!(MfaRequired::parse("mfa_required", "sometimes").is_err());
    }

    #[test]
    fn typed_codes_are_read_generously() {
        assert_eq!(normalise_code(" 123 456 "), "123456");
        assert!(is_totp_code(&normalise_code("123 456")));
        assert_eq!(normalise_code("abcd-efgh"), "ABCDEFGH");
        assert!(!is_totp_code("ABCDEFGH"));
        assert_eq!(grouped("ABCDEFGHIJ", 4, " "), "ABCD EFGH IJ");
    }
}
