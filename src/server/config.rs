//! Server settings, from command-line flags or `ORRERY_*` environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, clap::Args)]
pub struct ServerConfig {
    /// Address and port to listen on.
    #[arg(long, env = "ORRERY_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Folder for the SQLite database (used when no --database-url is given).
    #[arg(long, env = "ORRERY_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// PostgreSQL URL (postgres://user@host/db) for teams and several replicas.
    #[arg(long, env = "ORRERY_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Create the demo workspace, the `demo` user and two models on real data, once.
    #[arg(long, env = "ORRERY_DEMO")]
    pub demo: bool,

    /// Password for the demo user; a random one is generated and logged when unset.
    #[arg(long, env = "ORRERY_DEMO_PASSWORD")]
    pub demo_password: Option<String>,

    /// Folder with the built browser bundle (`pkg/`) and static files.
    #[arg(long, env = "ORRERY_SITE_DIR", default_value = "target/site")]
    pub site_dir: PathBuf,

    /// Public URL users reach the server at; an https:// URL marks session cookies Secure.
    /// Multipart upload URLs start with it (without it, with the request's Host header).
    #[arg(long, env = "ORRERY_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Take the client address for login rate limits from the first X-Forwarded-For entry.
    /// Set this only behind a load balancer that overwrites that header.
    #[arg(long, env = "ORRERY_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// Largest accepted upload, in megabytes.
    #[arg(long, env = "ORRERY_MAX_UPLOAD_MB", default_value_t = 2048)]
    pub max_upload_mb: u64,

    /// Folder for run and model artifacts; defaults to `artifacts` in the data folder.
    /// Replicas behind a load balancer must share it (a network file system).
    #[arg(long, env = "ORRERY_ARTIFACTS_DIR")]
    pub artifacts_dir: Option<PathBuf>,

    /// Delay before the first webhook retry, in milliseconds; it doubles on each failure.
    #[arg(long, env = "ORRERY_WEBHOOK_RETRY_MS", default_value_t = 5000)]
    pub webhook_retry_ms: i64,

    /// Days to keep raw production rows, counted back from now by each row's timestamp. Older
    /// rows are deleted every ten minutes. Their daily summaries stay, so whole-model pages do
    /// not change, but segment views and delayed actuals no longer reach them. Unset keeps all.
    #[arg(long, env = "ORRERY_RAW_RETENTION_DAYS", value_parser = clap::value_parser!(u32).range(1..))]
    pub raw_retention_days: Option<u32>,
}

impl ServerConfig {
    pub fn artifacts_dir(&self) -> PathBuf {
        self.artifacts_dir.clone().unwrap_or_else(|| self.data_dir.join("artifacts"))
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url.as_deref().map(|url| url.starts_with("https://")).unwrap_or(false)
    }

    /// Settings for tests and tools: SQLite in `data_dir`, no demo.
    pub fn for_data_dir(data_dir: PathBuf, database_url: Option<String>) -> ServerConfig {
        ServerConfig {
            addr: "127.0.0.1:0".parse().expect("a valid literal address"),
            data_dir,
            database_url,
            demo: false,
            demo_password: None,
            site_dir: PathBuf::from("target/site"),
            public_url: None,
            trust_forwarded_for: false,
            max_upload_mb: 2048,
            artifacts_dir: None,
            webhook_retry_ms: 5000,
            raw_retention_days: None,
        }
    }
}
