//! Single sign-on settings of an organisation and the rules of an SSO sign-in that need no I/O:
//! which settings are valid, whether an e-mail's domain is allowed, which role a new member gets
//! from the provider's claim, and a readable name for a browser session's device.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ValidationErrors;
use crate::identity::Role;

/// An organisation's OpenID Connect settings, the client secret apart (it is write-only and
/// sealed; see `aims_app::sso`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SsoSettings {
    /// "Sign in with SSO" is offered and accepted for this organisation.
    pub enabled: bool,
    pub issuer_url: Option<String>,
    pub client_id: Option<String>,
    /// The e-mail domains whose verified addresses may sign in (lower case).
    pub allowed_domains: Vec<String>,
    /// A person the provider vouches for who is not yet a member becomes one.
    pub jit_enabled: bool,
    /// The role of a member created just in time when no claim maps to one.
    pub default_role: Role,
    /// The ID token claim whose values `role_map` maps to roles (a string or a list of strings).
    pub role_claim: Option<String>,
    pub role_map: BTreeMap<String, Role>,
    /// Password sign-in (and password reset) is refused to members, except the break-glass owner.
    pub required: bool,
    /// The e-mail of the one owner who may still sign in with a password when SSO is required.
    pub break_glass_owner: Option<String>,
}

impl Default for SsoSettings {
    fn default() -> Self {
        Self {
            enabled: false,
            issuer_url: None,
            client_id: None,
            allowed_domains: Vec::new(),
            jit_enabled: false,
            default_role: Role::Viewer,
            role_claim: None,
            role_map: BTreeMap::new(),
            required: false,
            break_glass_owner: None,
        }
    }
}

/// What a change does to the write-only client secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretChange {
    Keep,
    Set(String),
    Clear,
}

/// The fields a change may name.
pub const FIELDS: &[&str] = &[
    "enabled",
    "issuer_url",
    "client_id",
    "client_secret",
    "allowed_domains",
    "jit_enabled",
    "default_role",
    "role_claim",
    "role_map",
    "required",
    "break_glass_owner",
];

impl SsoSettings {
    /// Applies a JSON merge patch to these settings, checking every field it names and then the
    /// whole (what SSO needs once enabled or required). Errors name the field.
    pub fn patched(&self, patch: &Value) -> Result<(SsoSettings, SecretChange), ValidationErrors> {
        let Some(patch) = patch.as_object() else {
            return Err(ValidationErrors::single("", "invalid_type", "the body must be a JSON object"));
        };
        let mut next = self.clone();
        let mut secret = SecretChange::Keep;
        let mut errors = ValidationErrors::default();
        for (field, value) in patch {
            match field.as_str() {
                "enabled" => set_bool(&mut errors, field, value, &mut next.enabled),
                "jit_enabled" => set_bool(&mut errors, field, value, &mut next.jit_enabled),
                "required" => set_bool(&mut errors, field, value, &mut next.required),
                "issuer_url" => next.issuer_url = optional_text(&mut errors, field, value, issuer_url),
                "client_id" => next.client_id = optional_text(&mut errors, field, value, plain_text),
                "role_claim" => next.role_claim = optional_text(&mut errors, field, value, plain_text),
                "break_glass_owner" => next.break_glass_owner = optional_text(&mut errors, field, value, email_text),
                "client_secret" => match value {
                    Value::Null => secret = SecretChange::Clear,
                    Value::String(text) if !text.trim().is_empty() && text.len() <= 1000 => secret = SecretChange::Set(text.clone()),
                    _ => errors.push(field, "invalid_type", "the client secret as a string (up to 1000 characters), or null to forget it"),
                },
                "allowed_domains" => next.allowed_domains = domains(&mut errors, value),
                "default_role" => match value.as_str().map(|t| jit_role(field, t)) {
                    Some(Ok(role)) => next.default_role = role,
                    Some(Err(e)) => errors.0.extend(e.0),
                    None => errors.push(field, "invalid_type", "one of admin, editor, auditor, viewer"),
                },
                "role_map" => next.role_map = role_map(&mut errors, value),
                other => errors.push(other, "unknown_field", format!("the SSO settings have no field {other}")),
            }
        }
        errors.into_result()?;
        next.check_whole(&secret)?;
        Ok((next, secret))
    }

    /// What enabling or requiring SSO needs. `secret` is the change under way (a secret already
    /// stored is the caller's to know: a missing one is checked where it is used).
    fn check_whole(&self, secret: &SecretChange) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if self.enabled {
            if self.issuer_url.is_none() {
                errors.push("issuer_url", "required", "SSO needs the provider's issuer URL");
            }
            if self.client_id.is_none() {
                errors.push("client_id", "required", "SSO needs the client id registered with the provider");
            }
            if self.allowed_domains.is_empty() {
                errors.push("allowed_domains", "required", "at least one e-mail domain that may sign in");
            }
            if *secret == SecretChange::Clear {
                errors.push("client_secret", "required", "SSO needs the client secret while it is enabled");
            }
        }
        if self.required {
            if !self.enabled {
                errors.push("required", "invalid_value", "SSO can only be required while it is enabled");
            }
            if self.break_glass_owner.is_none() {
                errors.push("break_glass_owner", "required", "name the one owner who may still sign in with a password");
            }
        }
        if self.role_claim.is_none() && !self.role_map.is_empty() {
            errors.push("role_claim", "required", "name the claim whose values the role map maps");
        }
        errors.into_result()
    }

    /// Is this verified e-mail address in one of the allowed domains (exactly; no subdomains)?
    pub fn allows_email(&self, email: &str) -> bool {
        email_domain(email).is_some_and(|domain| self.allowed_domains.contains(&domain))
    }

    /// The role of a member created just in time: the most privileged role the claim's values
    /// map to, else the default role.
    pub fn role_for_claim(&self, claim: Option<&Value>) -> Role {
        let values: Vec<&str> = match claim {
            Some(Value::String(one)) => vec![one.as_str()],
            Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        values.iter().filter_map(|value| self.role_map.get(*value).copied()).min().unwrap_or(self.default_role)
    }
}

/// The lower-case domain of an e-mail address.
pub fn email_domain(email: &str) -> Option<String> {
    email.rsplit_once('@').map(|(_, domain)| domain.trim().to_ascii_lowercase()).filter(|d| !d.is_empty())
}

fn set_bool(errors: &mut ValidationErrors, field: &str, value: &Value, target: &mut bool) {
    match value {
        Value::Bool(b) => *target = *b,
        _ => errors.push(field, "invalid_type", "expected true or false"),
    }
}

/// A text field that null (or an empty string) clears.
fn optional_text(
    errors: &mut ValidationErrors,
    field: &str,
    value: &Value,
    check: fn(&str, &str) -> Result<String, ValidationErrors>,
) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) if text.trim().is_empty() => None,
        Value::String(text) => check(field, text.trim()).map_err(|e| errors.0.extend(e.0)).ok(),
        _ => {
            errors.push(field, "invalid_type", "expected a string or null");
            None
        }
    }
}

fn plain_text(field: &str, text: &str) -> Result<String, ValidationErrors> {
    if text.len() > 500 || text.chars().any(char::is_control) {
        return Err(ValidationErrors::single(field, "invalid_format", "at most 500 characters, no control characters"));
    }
    Ok(text.to_owned())
}

fn email_text(field: &str, text: &str) -> Result<String, ValidationErrors> {
    crate::identity::Email::parse(field, text).map(|e| e.as_str().to_owned())
}

/// An issuer is an https URL without query or fragment; plain http only on this machine's
/// loopback (a provider run beside aims for development and tests).
pub fn issuer_url(field: &str, text: &str) -> Result<String, ValidationErrors> {
    let bad = |why: &str| Err(ValidationErrors::single(field, "invalid_format", why));
    let (scheme, rest) = match text.split_once("://") {
        Some(("https", rest)) => ("https", rest),
        Some(("http", rest)) => ("http", rest),
        _ => return bad("an https:// URL such as https://login.example.com"),
    };
    if text.len() > 500 || text.chars().any(|c| c.is_whitespace() || c.is_control()) || text.contains(['?', '#', '@']) {
        return bad("a URL without spaces, query, fragment or user name");
    }
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    if host.is_empty() || !host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')) {
        return bad("the URL needs a host name");
    }
    if scheme == "http" && !matches!(host, "127.0.0.1" | "::1" | "localhost") {
        return bad("https:// is required (plain http:// only for a provider on loopback)");
    }
    // Kept as typed: the ID token's `iss` must equal the issuer exactly, trailing slash and all.
    Ok(text.to_owned())
}

/// A domain name: dot-separated labels of letters, digits and hyphens, at least two labels.
/// Taken as given (no trimming): the API's schema promises exactly these characters.
fn domain_name(text: &str) -> Option<String> {
    let domain = text.to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len()) && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    (domain.len() <= 253 && labels.len() >= 2 && labels.iter().all(label_ok)).then_some(domain)
}

fn domains(errors: &mut ValidationErrors, value: &Value) -> Vec<String> {
    // An empty list, not null, clears it: the API's schema says a list.
    let Some(items) = value.as_array() else {
        errors.push("allowed_domains", "invalid_type", "a list of e-mail domains such as [\"example.com\"] (or [] for none)");
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_str().and_then(domain_name) {
            Some(domain) if !out.contains(&domain) => out.push(domain),
            Some(_) => {}
            None => errors.push(format!("allowed_domains[{i}]"), "invalid_format", "a domain name such as example.com"),
        }
    }
    out
}

/// Single sign-on never makes an owner by itself: owners are made by owners.
fn jit_role(field: &str, text: &str) -> Result<Role, ValidationErrors> {
    match Role::parse(field, text)? {
        Role::Owner => Err(ValidationErrors::single(field, "invalid_choice", "one of admin, editor, auditor, viewer (not owner)")),
        role => Ok(role),
    }
}

fn role_map(errors: &mut ValidationErrors, value: &Value) -> BTreeMap<String, Role> {
    let empty = Map::new();
    let object = match value {
        Value::Null => &empty,
        Value::Object(object) => object,
        _ => {
            errors.push("role_map", "invalid_type", "an object from claim values to roles, e.g. {\"aims-admins\": \"admin\"}");
            &empty
        }
    };
    let mut map = BTreeMap::new();
    for (claim_value, role) in object {
        let field = format!("role_map.{claim_value}");
        match role.as_str().map(|t| jit_role(&field, t)) {
            Some(Ok(role)) => {
                map.insert(claim_value.clone(), role);
            }
            Some(Err(e)) => errors.0.extend(e.0),
            None => errors.push(field, "invalid_type", "one of admin, editor, auditor, viewer"),
        }
    }
    map
}

/// A short, readable name for the browser a session was signed in from, e.g. "Firefox on
/// Linux", from its User-Agent header; "Unknown device" when it says nothing we recognise.
pub fn device_name(user_agent: &str) -> String {
    let ua = user_agent;
    // Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
    let browser = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
        .iter()
        .find(|(token, _)| ua.contains(token))
        .map(|(_, name)| *name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(token, _)| ua.contains(token))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("Browser on {s}"),
        (None, None) if ua.trim().is_empty() => "Unknown device".to_owned(),
        // A script or tool: its product token, not the whole header.
        (None, None) => ua.split_whitespace().next().unwrap_or("Unknown device").chars().take(40).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_patch_is_checked_field_by_field_and_as_a_whole() {
        let base = SsoSettings::default();
        let e = base.patched(&json!({"issuer_url": "ftp://x"})).unwrap_err();
        assert_eq!(e.0[0].field, "issuer_url");
        let e = base.patched(&json!({"issuer_url": "http://idp.example.com"})).unwrap_err();
        assert_eq!(e.0[0].field, "issuer_url", "plain http only on loopback");
        assert!(base.patched(&json!({"issuer_url": "http://127.0.0.1:4000/"})).is_ok());
        let e = base.patched(&json!({"allowed_domains": ["example.com", "not a domain"]})).unwrap_err();
        assert_eq!(e.0[0].field, "allowed_domains[1]");
        let e = base.patched(&json!({"default_role": "owner"})).unwrap_err();
        assert_eq!(e.0[0].field, "default_role");
        let e = base.patched(&json!({"enabled": true})).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["issuer_url", "client_id", "allowed_domains"]);
        let e = base.patched(&json!({"required": true})).unwrap_err();
        assert_eq!(e.0.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["required", "break_glass_owner"]);
        let (next, secret) = base
            .patched(&json!({"enabled": true, "issuer_url": "https://idp.example.com/", "client_id": "aims",
                "client_secret": "s3cret", "allowed_domains": ["Example.COM"]}))
            .expect("valid");
        assert_eq!(next.issuer_url.as_deref(), Some("https://idp.example.com/"));
        assert_eq!(next.allowed_domains, ["example.com"]);
        assert_eq!(secret, SecretChange::Set("s3cret".into()));
    }

    #[test]
    fn domains_match_exactly_and_claims_map_to_the_most_privileged_role() {
        let settings = SsoSettings {
            allowed_domains: vec!["example.com".into()],
            role_claim: Some("groups".into()),
            role_map: [("auditors".to_owned(), Role::Auditor), ("admins".to_owned(), Role::Admin)].into(),
            ..SsoSettings::default()
        };
        assert!(settings.allows_email("ada@Example.com"));
        assert!(!settings.allows_email("ada@evil-example.com"));
        assert!(!settings.allows_email("ada@sub.example.com"));
        assert_eq!(settings.role_for_claim(Some(&json!(["auditors", "admins"]))), Role::Admin);
        assert_eq!(settings.role_for_claim(Some(&json!("auditors"))), Role::Auditor);
        assert_eq!(settings.role_for_claim(Some(&json!("other"))), Role::Viewer);
        assert_eq!(settings.role_for_claim(None), Role::Viewer);
    }

    #[test]
    fn devices_have_short_names() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
        assert_eq!(device_name(chrome), "Chrome on Linux");
        let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
        assert_eq!(device_name(firefox), "Firefox on Windows");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device_name(safari), "Safari on iOS");
        assert_eq!(device_name("curl/8.5.0"), "curl/8.5.0");
        assert_eq!(device_name(""), "Unknown device");
    }
}
