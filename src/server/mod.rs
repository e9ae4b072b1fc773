//! The HTTP server: shared state, the router, and start-up and shutdown.

pub mod auth;
pub mod baselines;
pub mod config;
pub mod context;
pub mod csrf;
pub mod errors;
pub mod forms;
pub mod guard;
pub mod health;
pub mod ingest;
pub mod mlflow;
pub mod registry;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tower_http::services::ServeDir;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::app::{shell, App};
use crate::db::sessions::DbSessionStore;
use crate::db::Db;
use crate::tracking::artifacts::{ArtifactStore, LocalArtifactStore};
use config::ServerConfig;

/// State every handler and server function can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub leptos_options: LeptosOptions,
    pub config: Arc<ServerConfig>,
    pub artifacts: Arc<dyn ArtifactStore>,
}

impl AppState {
    pub fn new(db: Db, config: ServerConfig) -> AppState {
        AppState {
            db,
            leptos_options: leptos_options(&config),
            artifacts: Arc::new(LocalArtifactStore::new(config.artifacts_dir())),
            config: Arc::new(config),
        }
    }
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> LeptosOptions {
        state.leptos_options.clone()
    }
}

/// Builds Leptos' options without reading Cargo.toml, so the binary runs from any folder.
pub fn leptos_options(config: &ServerConfig) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("orrery")
        .site_root(config.site_dir.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.addr)
        .build()
}

/// Returns Leptos' route list, generated once per process.
///
/// Generating it renders the app while a process-wide flag of leptos_server suppresses
/// resource loading. A resource that a page in another router of the same process first
/// polls during that window never loads, and its request hangs. Tests
/// build a router per test on parallel threads, which made such hangs happen in CI; with the
/// list built once, no page renders while it is generated.
fn route_list() -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::Mutex<Option<Vec<AxumRouteListing>>> = std::sync::Mutex::new(None);
    let mut routes = ROUTES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    routes.get_or_insert_with(|| generate_route_list(App)).clone()
}

/// Builds the whole application: pages, server functions, forms, the API and static files.
pub fn router(state: AppState) -> Router {
    let routes = route_list();

    let session_layer = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("orrery_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(14)));

    let context_state = state.clone();
    let provide_state = move || provide_context(context_state.clone());
    let shell_options = state.leptos_options.clone();

    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, provide_state.clone(), move || {
            shell(shell_options.clone())
        })
        .route(
            "/api/{*fn_name}",
            get(server_fn_handler).post(server_fn_handler),
        );

    let site = state.config.site_dir.clone();
    Router::new()
        .route("/", get(auth::home))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/setup", post(auth::setup))
        .merge(baselines::router())
        .merge(forms::router())
        .merge(ingest::router())
        .merge(mlflow::router())
        .merge(registry::router())
        .merge(pages)
        .nest_service("/pkg", ServeDir::new(site.join("pkg")))
        .nest_service("/public", ServeDir::new(site.join("public")))
        .fallback(errors::not_found_page)
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::page_guard))
        .layer(axum::middleware::from_fn(csrf::csrf_protection))
        .layer(axum::middleware::from_fn_with_state(state.clone(), auth::load_current_user))
        .layer(session_layer)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn server_fn_handler(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
) -> impl axum::response::IntoResponse {
    leptos_axum::handle_server_fns_with_context(move || provide_context(state.clone()), request)
        .await
}

/// Connects to the database, optionally loads the demo, and serves until SIGINT or SIGTERM.
pub async fn serve(config: ServerConfig) -> anyhow::Result<()> {
    let db = Db::connect(config.database_url.as_deref(), &config.data_dir).await?;
    tracing::info!(backend = ?db.backend, "database ready, migrations applied");

    let stale = db.fail_stale_ingestions(crate::db::now_ms() - 24 * 3_600_000).await?;
    if stale > 0 {
        tracing::warn!(count = stale, "marked ingestions left pending for a day as failed");
    }

    if config.demo {
        crate::demo::ensure_demo(&db, config.demo_password.as_deref()).await?;
    }

    let state = AppState::new(db.clone(), config.clone());
    spawn_cleanup(db.clone(), state.artifacts.clone(), config.raw_retention_days);
    crate::tracking::webhooks::spawn_worker(db.clone(), config.webhook_retry_ms);

    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    tracing::info!(addr = %config.addr, "listening");
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("server stopped");
    Ok(())
}

/// Multipart uploads not completed within this time are aborted and their parts deleted.
const MULTIPART_UPLOAD_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);

/// Deletes expired sessions, old login failures, multipart uploads older than
/// [`MULTIPART_UPLOAD_MAX_AGE`] and, with a retention set, raw production rows past it, every
/// ten minutes.
fn spawn_cleanup(db: Db, artifacts: Arc<dyn ArtifactStore>, raw_retention_days: Option<u32>) {
    use tower_sessions::ExpiredDeletion;
    tokio::spawn(async move {
        let store = DbSessionStore::new(db.clone());
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            interval.tick().await;
            if let Err(error) = store.delete_expired().await {
                tracing::warn!(%error, "deleting expired sessions failed");
            }
            let cutoff = crate::db::now_ms() - auth::RATE_LIMIT_WINDOW_MS;
            if let Err(error) = db.delete_login_failures_before(cutoff).await {
                tracing::warn!(%error, "deleting old login failures failed");
            }
            match artifacts.abort_stale_multipart(MULTIPART_UPLOAD_MAX_AGE).await {
                Ok(0) => {}
                Ok(aborted) => tracing::info!(aborted, "aborted multipart uploads left unfinished for 7 days"),
                Err(error) => tracing::warn!(%error, "aborting stale multipart uploads failed"),
            }
            if let Some(days) = raw_retention_days {
                let cutoff = crate::db::now_ms() - i64::from(days) * 86_400_000;
                match db.delete_production_rows_before(cutoff).await {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(deleted, days, "deleted raw production rows past the retention"),
                    Err(error) => tracing::warn!(%error, days, "deleting raw production rows past the retention failed"),
                }
            }
        }
    });
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "could not listen for SIGINT");
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => tracing::error!(%error, "could not listen for SIGTERM"),
        }
    };
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        _ = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}
