//! Domain types and rules of aims. Nothing here performs I/O: no HTTP, no SQL, no clock
//! reads except through [`clock::now`]. Every other crate builds on these types.

pub mod catalogue;
pub mod chain;
pub mod clock;
pub mod cursor;
pub mod error;
pub mod identity;
pub mod kinds;
pub mod mfa;
pub mod policy;
pub mod readiness;
pub mod signin;
pub mod sso;
pub mod textdiff;
pub mod uploads;
pub mod validate;
pub mod workflow;

pub use error::{FieldError, ValidationErrors};
