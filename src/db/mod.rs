//! Database access for SQLite (the embedded default) and PostgreSQL (teams and replicas).
//!
//! Every query is written once, in the SQL subset both engines accept, and runs through sqlx's
//! `Any` driver. Tables use only BIGINT, DOUBLE PRECISION and TEXT columns (times are Unix
//! milliseconds, flags are 0/1) because those are the types `Any` decodes the same way on both
//! engines. Adding a table therefore means one migration per engine and one set of queries,
//! not two data layers. The integration tests run every query on both engines.

pub mod actuals;
mod metric_writer;
pub mod models;
pub mod records;
pub mod registry;
pub mod sessions;
pub mod tokens;
pub mod tracking;
pub mod users;
pub mod workspaces;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::AnyPool;

/// Database engine behind a pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool plus the engine behind it.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// Queue of the group-commit writer for metric points; `None` in the writer's own copy,
    /// which writes directly.
    metric_writes: Option<tokio::sync::mpsc::UnboundedSender<metric_writer::MetricWrite>>,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL \"{0}\"; use postgres://… or sqlite://…")]
    UnsupportedUrl(String),
    #[error("could not create the data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Opens `database_url`, or `orrery.db` in `data_dir` when no URL is given, and applies
    /// the migrations.
    pub async fn connect(database_url: Option<&str>, data_dir: &Path) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();

        let (url, backend) = match database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                (url.to_string(), Backend::Postgres)
            }
            Some(url) if url.starts_with("sqlite:") => (url.to_string(), Backend::Sqlite),
            Some(url) => return Err(DbError::UnsupportedUrl(url.to_string())),
            None => {
                std::fs::create_dir_all(data_dir).map_err(|source| DbError::DataDir {
                    path: data_dir.display().to_string(),
                    source,
                })?;
                let file = data_dir.join("orrery.db");
                (format!("sqlite://{}", file.display()), Backend::Sqlite)
            }
        };

        let pool = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') { url } else { format!("{url}?mode=rwc") };
                let options = AnyConnectOptions::from_str(&url)?;
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|connection, _meta| {
                        Box::pin(async move {
                            // WAL lets pages read while an ingestion writes; the busy timeout
                            // makes a second writer wait for the first instead of failing.
                            for pragma in [
                                "PRAGMA journal_mode = WAL",
                                "PRAGMA synchronous = NORMAL",
                                "PRAGMA foreign_keys = ON",
                                "PRAGMA busy_timeout = 30000",
                                // Reads map the file instead of copying each page in with a
                                // pread call; that copying took a fifth of a run search's time.
                                "PRAGMA mmap_size = 1073741824",
                                // MLflow's LIKE is case-sensitive, as PostgreSQL's is.
                                "PRAGMA case_sensitive_like = ON",
                            ] {
                                sqlx::query(pragma).execute(&mut *connection).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                let options = AnyConnectOptions::from_str(&url)?;
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(options)
                    .await?
            }
        };

        let mut db = Db { pool, backend, metric_writes: None };
        db.migrate().await?;
        let moved = db.move_metric_rows_to_blocks().await?;
        if moved > 0 {
            tracing::info!(points = moved, "moved metric points stored one per row into packed blocks");
        }
        db.metric_writes = Some(metric_writer::spawn(db.clone()));
        Ok(db)
    }

    async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Begins a transaction that will write. On SQLite it takes the database's write lock
    /// at once (BEGIN IMMEDIATE), waiting up to the busy timeout for another writer. A deferred
    /// transaction that reads first and writes later gets "database is locked" at once, without
    /// waiting, when another connection wrote in between, because its snapshot is stale.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Checks that the database runs a trivial query.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }
}

/// Returns the current time in Unix milliseconds, the unit of every time column.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Returns true when `error` is a unique-constraint violation on either engine.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db_error) => db_error.is_unique_violation(),
        _ => false,
    }
}
