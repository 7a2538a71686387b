//! Versioned schema migrations, one SQL file per version and backend, applied in order at start
//! and by `aims migrate`. Applied versions are recorded in `schema_migrations`; a database that
//! records a version this binary does not know is refused rather than touched.

use crate::db::Db;
use crate::error::{StoreError, StoreResult};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "record_documents",
        sqlite: include_str!("../migrations/sqlite/0002_record_documents.sql"),
        postgres: include_str!("../migrations/postgres/0002_record_documents.sql"),
    },
    Migration {
        version: 3,
        name: "evidence_files",
        sqlite: include_str!("../migrations/sqlite/0003_evidence_files.sql"),
        postgres: include_str!("../migrations/postgres/0003_evidence_files.sql"),
    },
    Migration {
        version: 4,
        name: "inline_documents",
        sqlite: include_str!("../migrations/sqlite/0004_inline_documents.sql"),
        postgres: include_str!("../migrations/postgres/0004_inline_documents.sql"),
    },
    Migration {
        version: 5,
        name: "token_check_indexes",
        sqlite: include_str!("../migrations/sqlite/0005_token_check_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0005_token_check_indexes.sql"),
    },
    Migration {
        version: 6,
        name: "auth_generation",
        sqlite: include_str!("../migrations/sqlite/0006_auth_generation.sql"),
        postgres: include_str!("../migrations/postgres/0006_auth_generation.sql"),
    },
    Migration {
        version: 7,
        name: "activity_by_type",
        sqlite: include_str!("../migrations/sqlite/0007_activity_by_type.sql"),
        postgres: include_str!("../migrations/postgres/0007_activity_by_type.sql"),
    },
    Migration {
        version: 8,
        name: "records_by_name",
        sqlite: include_str!("../migrations/sqlite/0008_records_by_name.sql"),
        postgres: include_str!("../migrations/postgres/0008_records_by_name.sql"),
    },
    Migration {
        version: 9,
        name: "sign_in_failures",
        sqlite: include_str!("../migrations/sqlite/0009_sign_in_failures.sql"),
        postgres: include_str!("../migrations/postgres/0009_sign_in_failures.sql"),
    },
    Migration {
        version: 10,
        name: "records_by_name_key",
        sqlite: include_str!("../migrations/sqlite/0010_records_by_name_key.sql"),
        postgres: include_str!("../migrations/postgres/0010_records_by_name_key.sql"),
    },
    Migration {
        version: 11,
        name: "records_search",
        sqlite: include_str!("../migrations/sqlite/0011_records_search.sql"),
        postgres: include_str!("../migrations/postgres/0011_records_search.sql"),
    },
    Migration {
        version: 12,
        name: "notifications",
        sqlite: include_str!("../migrations/sqlite/0012_notifications.sql"),
        postgres: include_str!("../migrations/postgres/0012_notifications.sql"),
    },
    Migration {
        version: 13,
        name: "concern_status_tokens",
        sqlite: include_str!("../migrations/sqlite/0013_concern_status_tokens.sql"),
        postgres: include_str!("../migrations/postgres/0013_concern_status_tokens.sql"),
    },
    Migration {
        version: 14,
        name: "members",
        sqlite: include_str!("../migrations/sqlite/0014_members.sql"),
        postgres: include_str!("../migrations/postgres/0014_members.sql"),
    },
    Migration {
        version: 15,
        name: "mfa",
        sqlite: include_str!("../migrations/sqlite/0015_mfa.sql"),
        postgres: include_str!("../migrations/postgres/0015_mfa.sql"),
    },
    Migration {
        version: 16,
        name: "sso_sessions",
        sqlite: include_str!("../migrations/sqlite/0016_sso_sessions.sql"),
        postgres: include_str!("../migrations/postgres/0016_sso_sessions.sql"),
    },
    Migration {
        version: 17,
        name: "readiness",
        sqlite: include_str!("../migrations/sqlite/0017_readiness.sql"),
        postgres: include_str!("../migrations/postgres/0017_readiness.sql"),
    },
    Migration {
        version: 18,
        name: "issued_documents",
        sqlite: include_str!("../migrations/sqlite/0018_issued_documents.sql"),
        postgres: include_str!("../migrations/postgres/0018_issued_documents.sql"),
    },
];

/// The schema version this binary writes.
pub fn known_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// What a migration run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub from_version: i64,
    pub to_version: i64,
    pub applied: Vec<String>,
}

/// Brings the database to the current schema. Each migration runs in its own transaction, with
/// its row in `schema_migrations`, so a failed migration leaves the previous version intact.
pub async fn run(db: &Db) -> StoreResult<MigrationReport> {
    const CREATE: &str =
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL)";
    on_pool!(db, pool => { sqlx::query(CREATE).execute(pool).await?; });
    let current: i64 = on_pool!(db, pool => {
        sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version) FROM schema_migrations").fetch_one(pool).await?
    })
    .unwrap_or(0);
    if current > known_version() {
        return Err(StoreError::SchemaTooNew { found: current, known: known_version() });
    }
    // Every migration not yet recorded, not only those above the highest one recorded: one
    // numbered below a migration a database already has (work merged from parallel branches)
    // is applied too.
    let done: Vec<i64> = on_pool!(db, pool => {
        sqlx::query_scalar::<_, i64>("SELECT version FROM schema_migrations").fetch_all(pool).await?
    });
    let mut applied = Vec::new();
    for migration in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        let mut tx = db.begin_write().await?;
        let script = match db {
            Db::Sqlite(..) => migration.sqlite,
            Db::Postgres(..) => migration.postgres,
        };
        tx.execute_script(script).await?;
        let now = aims_domain::clock::now_text();
        tx.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
            .bind(migration.version)
            .bind(migration.name)
            .bind(&now)
            .execute()
            .await?;
        tx.commit().await?;
        applied.push(format!("{:04}_{}", migration.version, migration.name));
    }
    Ok(MigrationReport { from_version: current, to_version: known_version(), applied })
}
