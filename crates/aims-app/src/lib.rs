//! Application services of aims. Each public function is one use case: it checks permission
//! with the policy module, validates with aims-domain, and writes through aims-store in one
//! transaction together with the activity event of every record it changes. The web API, the
//! web UI, the CLI and the demo seeder all call these functions, so they behave the same.

pub mod access;
pub mod activity;
pub mod activity_export;
pub mod audit;
pub mod demo;
mod demo_audit;
mod demo_documents;
mod demo_improvement;
mod demo_maturity;
mod demo_operations;
mod demo_review;
mod demo_schedules;
pub mod error;
pub mod evidence;
mod gates;
pub mod import;
pub mod improvement;
pub mod list_query;
pub mod members;
pub mod mfa;
pub mod notify;
pub mod oidc_http;
pub mod operations;
pub mod orgs;
pub mod people;
pub mod policies;
pub mod readiness;
pub mod records;
pub mod reports;
pub mod review;
pub mod rules;
pub mod scheduler;
pub mod schedules;
pub mod secretbox;
pub mod secrets;
pub mod sessions;
pub mod setup;
pub mod soa;
pub mod sso;
pub mod token_checks;
pub mod tokens;
pub mod transitions;
pub mod trust;
pub mod users;

use std::sync::Arc;

use aims_domain::catalogue::Iso42001;
use aims_store::Db;
use aims_store::files::FileStore;

pub use error::{AppError, AppResult};

/// What every service needs: the database, the file store and the shipped catalogue.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub files: FileStore,
    pub catalogue: Arc<Iso42001>,
    /// The largest evidence file accepted, in bytes.
    pub max_upload_bytes: usize,
    /// Token checks the hot reads may reuse while the auth generation holds.
    pub(crate) token_checks: Arc<token_checks::TokenChecks>,
    /// Concerns sent through the public intake per source, in this process.
    pub(crate) intake_limiter: Arc<operations::IntakeLimiter>,
}

/// The default upload limit: 25 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 25 * 1024 * 1024;

impl App {
    /// Opens the database, brings it to the current schema and loads the shipped catalogue.
    /// Evidence files go to the store `AIMS_FILE_STORE` names (`database` or a folder), else a
    /// folder beside a SQLite file, else the database; `AIMS_MAX_UPLOAD_MB` sets the size limit.
    pub async fn open(database_url: &str) -> AppResult<(Self, aims_store::migrate::MigrationReport)> {
        let files = FileStore::choose(std::env::var("AIMS_FILE_STORE").ok().as_deref(), database_url);
        let max_upload_bytes = std::env::var("AIMS_MAX_UPLOAD_MB")
            .ok()
            .and_then(|mb| mb.trim().parse::<usize>().ok())
            .filter(|mb| *mb > 0)
            .map_or(DEFAULT_MAX_UPLOAD_BYTES, |mb| mb * 1024 * 1024);
        Self::open_with(database_url, files, max_upload_bytes).await
    }

    /// [`App::open`] with the file store and upload limit given.
    pub async fn open_with(
        database_url: &str,
        files: FileStore,
        max_upload_bytes: usize,
    ) -> AppResult<(Self, aims_store::migrate::MigrationReport)> {
        let db = Db::connect(database_url).await?;
        let report = aims_store::migrate::run(&db).await?;
        aims_store::records::backfill_documents(&db).await?;
        let catalogue = Iso42001::shipped().map_err(AppError::Validation)?;
        let app = Self {
            db,
            files,
            catalogue: Arc::new(catalogue),
            max_upload_bytes,
            token_checks: Arc::default(),
            intake_limiter: Arc::default(),
        };
        app.backfill_org_defaults().await?;
        Ok((app, report))
    }
}
