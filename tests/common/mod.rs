//! Helpers for tests that drive the whole axum application in-process, on SQLite or on a
//! fresh PostgreSQL database.

#![allow(dead_code)]


use axum::body::Body;
use axum::http::{header, Request, Response, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use orrery::db::Db;
use orrery::server::config::ServerConfig;
use orrery::server::{router, AppState};
use tower::ServiceExt;

/// Admin connection used to create one database per PostgreSQL test.
pub fn postgres_admin_url() -> String {
    std::env::var("ORRERY_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Returns true when PostgreSQL tests must run (CI sets ORRERY_REQUIRE_POSTGRES=1). Otherwise
/// they are skipped with a message when no server accepts the connection.
fn postgres_required() -> bool {
    std::env::var("ORRERY_REQUIRE_POSTGRES").as_deref() == Ok("1")
}

pub struct TestApp {
    pub router: Router,
    pub db: Db,
    pub state: AppState,
    _data_dir: tempfile::TempDir,
    postgres_database: Option<String>,
}

impl TestApp {
    pub async fn sqlite() -> TestApp {
        let data_dir = tempfile::tempdir().expect("a temporary folder");
        let config = ServerConfig::for_data_dir(data_dir.path().to_path_buf(), None);
        TestApp::start(config, data_dir, None).await
    }

    /// Returns `None` (and prints why) when PostgreSQL is unreachable and not required.
    pub async fn postgres() -> Option<TestApp> {
        use sqlx::Connection;
        let admin_url = postgres_admin_url();
        let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
            Ok(connection) => connection,
            Err(error) if !postgres_required() => {
                eprintln!("skipping PostgreSQL test: {admin_url} is unreachable ({error}); set ORRERY_REQUIRE_POSTGRES=1 to fail instead");
                return None;
            }
            Err(error) => panic!("PostgreSQL at {admin_url} is required but unreachable: {error}"),
        };
        let name = format!("orrery_test_{}", orrery::accounts::tokens::random_secret()[..16].to_string());
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("CREATE DATABASE");
        let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin_url);
        let url = format!("{base}/{name}");

        let data_dir = tempfile::tempdir().expect("a temporary folder");
        let config = ServerConfig::for_data_dir(data_dir.path().to_path_buf(), Some(url));
        Some(TestApp::start(config, data_dir, Some(name)).await)
    }

    async fn start(config: ServerConfig, data_dir: tempfile::TempDir, postgres_database: Option<String>) -> TestApp {
        // Warnings and errors the server logs go to the test's captured output, so a failing
        // test shows why a request failed.
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn").try_init();
        let db = Db::connect(config.database_url.as_deref(), &config.data_dir).await.expect("database connects");
        let state = AppState::new(db.clone(), config);
        TestApp { router: router(state.clone()), db, state, _data_dir: data_dir, postgres_database }
    }

    /// Starts a second application on the same database, as another replica behind a load
    /// balancer would run. Only the first instance drops the database.
    pub async fn replica(&self) -> TestApp {
        let config = (*self.state.config).clone();
        let data_dir = tempfile::tempdir().expect("a temporary folder");
        let mut app = TestApp::start(config, data_dir, None).await;
        app.postgres_database = None;
        app
    }

    /// Closes the pool and drops a PostgreSQL test database.
    pub async fn finish(self) {
        use sqlx::Connection;
        // Pool::close waits until every connection is back, so a request left hanging would
        // stall here (CI runs hung this way before the route list was built once per process,
        // see server::route_list). The forced DROP DATABASE below ends any connection left open.
        if tokio::time::timeout(std::time::Duration::from_secs(10), self.db.pool.close()).await.is_err() {
            eprintln!("closing the test pool timed out after 10 s; continuing");
        }
        if let Some(name) = self.postgres_database {
            let mut admin = sqlx::PgConnection::connect(&postgres_admin_url()).await.expect("admin connection");
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin).await.expect("DROP DATABASE");
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(request).await.expect("the router never fails")
    }

    /// Creates a user directly in the database.
    pub async fn create_user(&self, username: &str, password: &str) -> i64 {
        orrery::server::forms::create_user_account(&self.db, username, password, false).await.expect("user created")
    }

    /// Signs in through the login form and returns a browser-like client.
    pub async fn login(&self, username: &str, password: &str) -> Browser {
        let response = self.send(form_request("/login", &format!("username={username}&password={password}"), None)).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "login of {username} should redirect");
        let cookie = session_cookie(&response).expect("login sets a session cookie");
        let mut browser = Browser { cookie, csrf_token: String::new() };
        let page = self.send(browser.get("/account/tokens")).await;
        let html = body_text(page).await;
        browser.csrf_token = extract_csrf(&html).expect("pages carry the CSRF token");
        browser
    }
}

/// A signed-in browser: its session cookie and CSRF token.
#[derive(Clone, Debug)]
pub struct Browser {
    pub cookie: String,
    pub csrf_token: String,
}

impl Browser {
    pub fn get(&self, path: &str) -> Request<Body> {
        Request::get(path).header(header::COOKIE, &self.cookie).body(Body::empty()).unwrap()
    }

    /// Builds a form POST with the CSRF token added.
    pub fn post_form(&self, path: &str, body: &str) -> Request<Body> {
        let body = if body.is_empty() {
            format!("csrf_token={}", self.csrf_token)
        } else {
            format!("{body}&csrf_token={}", self.csrf_token)
        };
        form_request(path, &body, Some(&self.cookie))
    }

    /// Builds a form POST without the CSRF token.
    pub fn post_form_without_token(&self, path: &str, body: &str) -> Request<Body> {
        form_request(path, body, Some(&self.cookie))
    }
}

pub fn form_request(path: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut builder = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        builder = builder.header(header::COOKIE, cookie);
    }
    builder.body(Body::from(body.to_string())).unwrap()
}

pub fn bearer(method: &str, path: &str, token: &str, content_type: &str, body: Vec<u8>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap()
}

/// Returns `name=value` of the session cookie a response sets.
pub fn session_cookie(response: &Response<Body>) -> Option<String> {
    let header = set_cookie_header(response);
    let pair = header.split(';').next().unwrap_or("");
    (!pair.is_empty()).then(|| pair.to_string())
}

/// Returns the whole Set-Cookie header of the session cookie, or an empty string.
pub fn set_cookie_header(response: &Response<Body>) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("orrery_session="))
        .unwrap_or("")
        .to_string()
}

pub fn location(response: &Response<Body>) -> String {
    response.headers().get(header::LOCATION).and_then(|value| value.to_str().ok()).unwrap_or("").to_string()
}

pub async fn body_text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

pub async fn body_json(response: Response<Body>) -> serde_json::Value {
    let text = body_text(response).await;
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("invalid JSON ({error}): {text}"))
}

fn extract_csrf(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// Creates an API token for a user directly in the database and returns the secret.
pub async fn api_token(db: &Db, user_id: i64) -> String {
    let token = orrery::accounts::tokens::new_api_token();
    db.create_token(user_id, "test", &token.hash, &token.display_prefix, None).await.expect("token stored");
    token.secret
}

/// Maximum time a test body may run. The slowest takes a few seconds, so a body still running
/// after this has hung. Failing it names the test instead of stalling the whole run.
pub const TEST_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

pub async fn within_time_limit(body: impl std::future::Future<Output = ()>) {
    if tokio::time::timeout(TEST_TIME_LIMIT, body).await.is_err() {
        panic!("the test did not finish within {} s; it has probably hung", TEST_TIME_LIMIT.as_secs());
    }
}

/// Runs a test body against SQLite and, when reachable, PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::common::TestApp::sqlite().await;
                $crate::common::within_time_limit(super::$body(&app)).await;
                app.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::common::TestApp::postgres().await else { return };
                $crate::common::within_time_limit(super::$body(&app)).await;
                app.finish().await;
            }
        }
    };
}
