//! Organisations, people and roles: the parsed forms of what users type.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ValidationErrors;

/// An organisation's slug: `^[a-z0-9](-?[a-z0-9])*$`, at most 63 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgSlug(String);

impl OrgSlug {
    pub const MAX_LEN: usize = 63;

    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationErrors> {
        if text.is_empty() {
            return Err(ValidationErrors::single(field, "required", "a slug is required"));
        }
        if text.len() > Self::MAX_LEN {
            return Err(ValidationErrors::single(field, "too_long", "a slug has at most 63 characters"));
        }
        if !is_slug(text) {
            return Err(ValidationErrors::single(
                field,
                "invalid_format",
                "use lower-case letters and digits, with single hyphens between them (e.g. acme-ai)",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_slug(text: &str) -> bool {
    let bytes = text.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(|b| alnum(*b)) || !bytes.last().is_some_and(|b| alnum(*b)) {
        return false;
    }
    bytes.windows(2).all(|w| !(w[0] == b'-' && w[1] == b'-')) && bytes.iter().all(|b| alnum(*b) || *b == b'-')
}

impl fmt::Display for OrgSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, trimmed and lower-cased. The check is deliberately simple: one `@`,
/// something on each side, a dot in the domain, no spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationErrors> {
        let normalised = text.trim().to_lowercase();
        let valid = normalised.len() <= 254
            && !normalised.contains(char::is_whitespace)
            && normalised.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@')
            });
        if normalised.is_empty() {
            return Err(ValidationErrors::single(field, "required", "an e-mail address is required"));
        }
        if !valid {
            return Err(ValidationErrors::single(field, "invalid_format", "not a valid e-mail address"));
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password: at least 12 characters, at most 1024 (hashing cost stays bounded).
pub struct NewPassword(String);

impl NewPassword {
    pub const MIN_CHARS: usize = 12;

    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationErrors> {
        let chars = text.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(ValidationErrors::single(field, "too_short", "a password has at least 12 characters"));
        }
        if text.len() > 1024 {
            return Err(ValidationErrors::single(field, "too_long", "a password has at most 1024 bytes"));
        }
        if let Some(why) = Self::weakness(text) {
            return Err(ValidationErrors::single(field, "too_weak", &why));
        }
        Ok(Self(text.to_owned()))
    }

    /// Why a password is too easy to guess (zxcvbn scores it below 3 of 4: common passwords,
    /// repeats, sequences, keyboard patterns, dates), in zxcvbn's words; `None` when it is not.
    fn weakness(text: &str) -> Option<String> {
        // zxcvbn looks at the first 100 characters (its cost grows with the length); a
        // password as long as that is long enough not to be guessed.
        let head: String = text.chars().take(100).collect();
        let estimate = zxcvbn::zxcvbn(&head, &[]);
        if estimate.score() >= zxcvbn::Score::Three {
            return None;
        }
        let mut why = String::from("this password is too easy to guess");
        if let Some(feedback) = estimate.feedback() {
            if let Some(warning) = feedback.warning() {
                why = format!("{why}: {}", warning.to_string().trim_end_matches('.').to_lowercase());
            }
            let hints: Vec<String> = feedback.suggestions().iter().map(ToString::to_string).collect();
            if !hints.is_empty() {
                why = format!("{why}. {}", hints.join(" "));
            }
        }
        Some(why)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

/// The role a member holds in one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Editor,
    Auditor,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Owner, Role::Admin, Role::Editor, Role::Auditor, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationErrors> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| ValidationErrors::single(field, "invalid_choice", "one of owner, admin, editor, auditor, viewer"))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A display name or organisation name: trimmed, 1–200 characters, no control characters.
pub fn parse_name(field: &str, text: &str) -> Result<String, ValidationErrors> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ValidationErrors::single(field, "required", "a name is required"));
    }
    if trimmed.chars().count() > 200 {
        return Err(ValidationErrors::single(field, "too_long", "at most 200 characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ValidationErrors::single(field, "invalid_format", "control characters are not allowed"));
    }
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs() {
        for ok in ["demo", "a", "acme-ai", "a1-b2-c3", &"a".repeat(63)] {
            assert!(OrgSlug::parse("slug", ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "Acme", "a_b", "a b", &"a".repeat(64)] {
            assert!(OrgSlug::parse("slug", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(Email::parse("email", " Owner@Demo.Example ").unwrap().as_str(), "owner@demo.example");
        for bad in ["", "a", "a@b", "@b.c", "a b@c.d", "a@b.c.", "a@@b.c"] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        for weak in ["aaaaaaaaaaaa", "password1234", "qwertyuiop12", "123456789012"] {
            let errors = NewPassword::parse("password", weak).expect_err(weak);
            let error = &errors.0[0];
            assert_eq!((error.field.as_str(), error.code.as_str()), ("password", "too_weak"), "{weak}");
            assert!(error.message.starts_with("this password is too easy to guess: "), "{weak}: {}", error.message);
        }
        let repeated = NewPassword::parse("password", "aaaaaaaaaaaa").expect_err("weak");
        assert!(repeated.0[0].message.contains("repeats like \"aaa\" are easy to guess"), "{}", repeated.0[0].message);
        let common = NewPassword::parse("new_password", "password1234").expect_err("weak");
        assert_eq!(common.0[0].field, "new_password");
        assert!(common.0[0].message.contains("common"), "{}", common.0[0].message);
    }

    #[test]
    fn strong_passwords_pass() {
        for strong in
            ["correct horse battery staple", "a long enough password", "another long password", "Tr0ub4dor&3-xylophone", "v8#Lq2!mZ9@wR4"]
        {
            assert!(NewPassword::parse("password", strong).is_ok(), "{strong}");
        }
    }

    proptest! {
        #[test]
        fn slug_matches_the_contract_regex(text in "[a-z0-9-]{0,70}") {
            let expected = !text.is_empty() && text.len() <= 63 && !text.starts_with('-') && !text.ends_with('-') && !text.contains("--");
            prop_assert_eq!(OrgSlug::parse("slug", &text).is_ok(), expected);
        }
    }
}
