//! The database: an external server (DATABASE_URL) or Crier's own embedded cluster, connected,
//! migrated, and released at exit.
//!
//! Several Crier processes may share one data dir's embedded cluster (`crier serve` and an admin
//! command run beside it, or `crier serve --no-worker` and `crier worker`): the first starts it,
//! the others adopt it, and at exit each releases it, which stops it only when nobody else uses
//! it any more (`crier_embedded_pg::EmbeddedPostgres::release`). Every connection carries this
//! process's own `application_name`, so the release can tell this process's closing connections
//! from other clients in `pg_stat_activity`.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use crier_embedded_pg::{EmbeddedPostgres, Options, Released};
use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::config::{Config, DatabaseSetting};

/// An open, migrated database.
pub struct Database {
    /// The connection pool.
    pub pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
}

/// The `application_name` of this process's connections: unique per process (see the module
/// documentation), and telling in `pg_stat_activity` which process a connection belongs to.
pub fn application_name() -> String {
    format!("crier (pid {})", std::process::id())
}

impl Database {
    /// Starts the embedded cluster when there is no DATABASE_URL, connects and migrates.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        let (url, embedded) = match &config.database {
            DatabaseSetting::External(url) => (url.expose_secret().to_owned(), None),
            DatabaseSetting::Embedded => {
                let data_dir = config.data_dir.clone();
                let cluster = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&data_dir, &Options::default()))
                    .await
                    .context("the embedded PostgreSQL start-up task failed")??;
                tracing::info!(socket_dir = %cluster.socket_dir().display(), "embedded PostgreSQL is running");
                (cluster.database_url(), Some(cluster))
            }
        };
        let pool = match connect(&url).await {
            Ok(pool) => pool,
            Err(e) => {
                if let Some(cluster) = embedded {
                    release(cluster).await;
                }
                return Err(e);
            }
        };
        let database = Self { pool, embedded };
        if let Err(e) = migrate(&database.pool).await {
            database.close().await;
            return Err(e);
        }
        Ok(database)
    }

    /// Opens a database at a URL without starting anything (tests use one database per test).
    pub async fn open_url(url: &str) -> anyhow::Result<Self> {
        let pool = connect(url).await?;
        migrate(&pool).await?;
        Ok(Self { pool, embedded: None })
    }

    /// Closes the pool, then releases the embedded cluster: stopped if this process started it
    /// and nobody else uses it, left running for the others otherwise.
    pub async fn close(self) {
        self.pool.close().await;
        if let Some(cluster) = self.embedded {
            release(cluster).await;
        }
    }
}

async fn release(cluster: EmbeddedPostgres) {
    let name = application_name();
    match tokio::task::spawn_blocking(move || cluster.release(Some(&name))).await {
        Ok(Ok(Released::Stopped)) => tracing::info!("embedded PostgreSQL stopped"),
        Ok(Ok(released)) => tracing::info!(%released, "embedded PostgreSQL {released}"),
        Ok(Err(e)) => tracing::error!(error = %e, "could not release the embedded PostgreSQL"),
        Err(e) => tracing::error!(error = %e, "the embedded PostgreSQL release task failed"),
    }
}

async fn connect(url: &str) -> anyhow::Result<PgPool> {
    // The URL may hold a password: errors below never include it.
    let mut options = PgConnectOptions::from_str(url).context("DATABASE_URL could not be parsed")?;
    // A name the operator put in DATABASE_URL wins; the embedded cluster's URL never has one.
    if options.get_application_name().is_none() {
        options = options.application_name(&application_name());
    }
    PgPoolOptions::new()
        .max_connections(20)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .context("cannot connect to PostgreSQL")
}

/// Applies Crier's migrations and the job queue's (which live in their own `apalis` schema and
/// need the `hstore` extension: it is created here when the role may, for a clearer error).
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    crier_domain::MIGRATOR.run(pool).await.context("applying Crier's migrations failed")?;
    sqlx::query("create extension if not exists hstore")
        .execute(pool)
        .await
        .context("the job queue needs the `hstore` extension (package postgresql-contrib); creating it failed")?;
    apalis_postgres::PostgresStorage::setup(pool).await.context("applying the job queue's migrations failed")?;
    Ok(())
}
