//! The application layer's one error type. The HTTP edge maps it to problem+json once; the CLI
//! prints it on stderr.

use aims_domain::ValidationErrors;
use aims_domain::policy::Denied;
use aims_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Validation(ValidationErrors),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(#[from] Denied),
    #[error("{0}")]
    Conflict(String),
    #[error("the record has changed since version {expected}; it is now at version {current}")]
    Stale { expected: i64, current: i64 },
    #[error("authentication failed")]
    Unauthorized,
    /// A sign-in refused for a reason the person must be told (single sign-on required, or an
    /// SSO answer that does not hold up); 403 at the edge.
    #[error("{0}")]
    SignInRefused(String),
    #[error("too many attempts; try again after {0}")]
    RateLimited(String),
    /// An upload of a type aims does not accept, or whose bytes contradict its type (415).
    #[error("{0}")]
    UnsupportedFile(String),
    /// An upload over the configured limit (413).
    #[error("the file is larger than the limit of {0} bytes")]
    TooLarge(usize),
    #[error(transparent)]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("record".into()),
            StoreError::Conflict(what) => AppError::Conflict(what),
            other => AppError::Store(other),
        }
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        AppError::Validation(e)
    }
}

pub type AppResult<T> = Result<T, AppError>;
