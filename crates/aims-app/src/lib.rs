//! Application services of aims. Each public function is one use case: it checks permission
//! with the policy module, validates with aims-domain, and writes through aims-store in one
//! transaction together with the activity event of every record it changes. The web API, the
//! web UI, the CLI and the demo seeder all call these functions, so they behave the same.

pub mod access;
pub mod activity;
pub mod demo;
pub mod error;
pub mod import;
pub mod orgs;
pub mod records;
pub mod rules;
pub mod secrets;
pub mod setup;
pub mod tokens;
pub mod transitions;
pub mod users;

use std::sync::Arc;

use aims_domain::catalogue::Iso42001;
use aims_store::Db;

pub use error::{AppError, AppResult};

/// What every service needs: the database and the shipped catalogue.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub catalogue: Arc<Iso42001>,
}

impl App {
    /// Opens the database, brings it to the current schema and loads the shipped catalogue.
    pub async fn open(database_url: &str) -> AppResult<(Self, aims_store::migrate::MigrationReport)> {
        let db = Db::connect(database_url).await?;
        let report = aims_store::migrate::run(&db).await?;
        aims_store::records::backfill_documents(&db).await?;
        let catalogue = Iso42001::shipped().map_err(AppError::Validation)?;
        let app = Self { db, catalogue: Arc::new(catalogue) };
        app.backfill_org_defaults().await?;
        Ok((app, report))
    }
}
