use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    init_tracing();
    let cli = orrery::cli::Cli::parse();
    if let Err(error) = orrery::cli::run(cli).await {
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

/// Logs to standard error; `ORRERY_LOG_FORMAT=json` switches to one JSON object per line and
/// `RUST_LOG` sets the levels (default: info).
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("ORRERY_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
