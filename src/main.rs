use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() {
    init_tracing();
    let cli = orrery::cli::Cli::parse();
    if let Err(error) = orrery::cli::run(cli).await {
        eprintln!("error: {}", error_message(&error));
        std::process::exit(1);
    }
}

/// Joins an error and its causes with ": ", leaving out a cause whose text the message already
/// contains, as when an I/O error is both named in the message and kept as its source.
fn error_message(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    message
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
