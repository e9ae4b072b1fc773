//! The HTTP application in-process: logins, sessions, CSRF, rate limits, workspaces, API
//! tokens, ingestion and workspace isolation, each on SQLite and on PostgreSQL.

#![cfg(feature = "ssr")]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{api_token, bearer, body_json, body_text, form_request, location, session_cookie, set_cookie_header, TestApp};
use orrery::monitoring::schema::{ColumnKind, ColumnRole, ColumnSpec, ModelSchema};
use orrery::types::Role;

const PASSWORD: &str = "correct horse battery";

fn small_schema() -> ModelSchema {
    let column = |name: &str, kind, role| ColumnSpec::new(name, kind, role);
    ModelSchema {
        id_column: "id".into(),
        timestamp_column: "ts".into(),
        columns: vec![
            column("age", ColumnKind::Numeric, ColumnRole::Feature),
            column("plan", ColumnKind::Categorical, ColumnRole::Feature),
            column("pred", ColumnKind::Categorical, ColumnRole::Prediction),
        ],
    }
}

const GOOD_CSV: &str = "id,ts,age,plan,pred\n1,2024-01-01,30,basic,0\n2,2024-01-01,41,pro,1\n3,2024-01-02,25,basic,0\n";
const BAD_CSV: &str = "id,ts,age,plan,pred\n1,2024-02-01,30,basic,0\n2,2024-02-01,forty,pro,1\n3,2024-02-02,25,basic,0\n";

/// Creates a workspace `slug` owned by a new user, with the small model `churn`.
async fn workspace_with_model(app: &TestApp, owner: &str, slug: &str) -> (i64, i64) {
    let user_id = app.create_user(owner, PASSWORD).await;
    let workspace_id = app.db.create_workspace(slug, slug, user_id).await.unwrap();
    app.db.create_model(workspace_id, "churn", "", &small_schema()).await.unwrap();
    (user_id, workspace_id)
}

fn records_path(workspace: &str, environment: &str) -> String {
    format!("/api/v1/workspaces/{workspace}/models/churn/versions/v1/environments/{environment}/records?file_name=batch.csv")
}

async fn login_sets_secure_session(app: &TestApp) {
    app.create_user("alice", PASSWORD).await;

    let response = app.send(form_request("/login", &format!("username=alice&password={PASSWORD}"), None)).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    let cookie = set_cookie_header(&response);
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let first = session_cookie(&response).unwrap();
    let page = app.send(Request::get("/account/tokens").header(header::COOKIE, &first).body(Body::empty()).unwrap()).await;
    assert_eq!(page.status(), StatusCode::OK);
}
on_both_databases!(login_sets_secure_session_on, login_sets_secure_session);

async fn login_rotates_session_id(app: &TestApp) {
    app.create_user("alice", PASSWORD).await;
    let first = app.login("alice", PASSWORD).await;

    let response = app.send(first.post_form("/login", &format!("username=alice&password={PASSWORD}"))).await;
    let second = session_cookie(&response).expect("a new session cookie");

    assert_ne!(second, first.cookie);
    let old = app.send(first.get("/account/tokens")).await;
    assert_eq!(old.status(), StatusCode::SEE_OTHER, "the pre-login session id must stop working");
    assert!(location(&old).starts_with("/login"));
}
on_both_databases!(login_rotates_session_id_on, login_rotates_session_id);

async fn wrong_password_is_rejected(app: &TestApp) {
    app.create_user("alice", PASSWORD).await;

    let response = app.send(form_request("/login", "username=alice&password=nope-nope", None)).await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login?error="), "{}", location(&response));
    assert!(session_cookie(&response).is_none());
}
on_both_databases!(wrong_password_is_rejected_on, wrong_password_is_rejected);

async fn login_rate_limit_per_account(app: &TestApp) {
    app.create_user("alice", PASSWORD).await;
    for _ in 0..orrery::server::auth::MAX_FAILURES_PER_ACCOUNT {
        app.send(form_request("/login", "username=alice&password=wrong-password", None)).await;
    }

    let response = app.send(form_request("/login", &format!("username=alice&password={PASSWORD}"), None)).await;

    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(body_text(response).await.contains("wait 15 minutes"));
}
on_both_databases!(login_rate_limit_per_account_on, login_rate_limit_per_account);

async fn login_rate_limit_per_address(app: &TestApp) {
    app.create_user("alice", PASSWORD).await;
    // Failures spread over many unknown accounts still count against the one address.
    for attempt in 0..orrery::server::auth::MAX_FAILURES_PER_ADDRESS {
        let body = format!("username=guess{attempt}&password=wrong-password");
        app.send(form_request("/login", &body, None)).await;
    }

    let response = app.send(form_request("/login", &format!("username=alice&password={PASSWORD}"), None)).await;

    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}
on_both_databases!(login_rate_limit_per_address_on, login_rate_limit_per_address);

async fn csrf_token_required(app: &TestApp) {
    app.create_user("alice", PASSWORD).await;
    let browser = app.login("alice", PASSWORD).await;

    let rejected = app.send(browser.post_form_without_token("/workspaces", "name=Team")).await;
    let forged = app.send(browser.post_form_without_token("/workspaces", "name=Team&csrf_token=forged")).await;
    let accepted = app.send(browser.post_form("/workspaces", "name=Team")).await;

    assert_eq!(rejected.status(), StatusCode::FORBIDDEN);
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&accepted), "/w/team");
}
on_both_databases!(csrf_token_required_on, csrf_token_required);

async fn csrf_cross_origin_rejected(app: &TestApp) {
    app.create_user("alice", PASSWORD).await;
    let body = format!("username=alice&password={PASSWORD}");

    let mut cross_origin = form_request("/login", &body, None);
    cross_origin.headers_mut().insert(header::HOST, "orrery.example".parse().unwrap());
    cross_origin.headers_mut().insert(header::ORIGIN, "https://evil.example".parse().unwrap());
    let mut cross_site = form_request("/login", &body, None);
    cross_site.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
    let mut same_origin = form_request("/login", &body, None);
    same_origin.headers_mut().insert(header::HOST, "orrery.example".parse().unwrap());
    same_origin.headers_mut().insert(header::ORIGIN, "https://orrery.example".parse().unwrap());

    assert_eq!(app.send(cross_origin).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.send(cross_site).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.send(same_origin).await.status(), StatusCode::SEE_OTHER);
}
on_both_databases!(csrf_cross_origin_rejected_on, csrf_cross_origin_rejected);

async fn first_admin_setup_once(app: &TestApp) {
    let page = app.send(Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(location(&page), "/setup");

    let created = app.send(form_request("/setup", "username=root&password=long-enough-pw&workspace=ML%20Platform", None)).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&created), "/w/ml-platform");
    let admin = app.db.user_by_name("root").await.unwrap().unwrap();
    assert!(admin.is_admin);

    let again = app.send(form_request("/setup", "username=evil&password=long-enough-pw&workspace=X", None)).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert!(app.db.user_by_name("evil").await.unwrap().is_none());
}
on_both_databases!(first_admin_setup_once_on, first_admin_setup_once);

async fn workspace_members_and_roles(app: &TestApp) {
    let (_, workspace_id) = workspace_with_model(app, "owner", "team").await;
    app.create_user("bob", PASSWORD).await;
    let owner = app.login("owner", PASSWORD).await;

    let added = app.send(owner.post_form("/w/team/members", "username=bob&role=viewer")).await;
    assert_eq!(location(&added), "/w/team/settings");
    let changed = app.send(owner.post_form("/w/team/members/bob/role", "role=member")).await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let members = app.db.members(workspace_id).await.unwrap();
    assert_eq!(members.iter().find(|m| m.username == "bob").unwrap().role, Role::Member);

    let unknown = app.send(owner.post_form("/w/team/members", "username=nobody&role=member")).await;
    assert!(location(&unknown).contains("error="), "{}", location(&unknown));
    let last_owner = app.send(owner.post_form("/w/team/members/owner/remove", "")).await;
    assert!(location(&last_owner).contains("at%20least%20one%20owner"), "{}", location(&last_owner));

    let renamed = app.send(owner.post_form("/w/team/rename", "name=Team%20Two")).await;
    assert_eq!(renamed.status(), StatusCode::SEE_OTHER);
    let removed = app.send(owner.post_form("/w/team/members/bob/remove", "")).await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let members = app.db.members(workspace_id).await.unwrap();
    assert_eq!(members.len(), 1);
    let workspaces = app.db.workspaces_of(app.db.user_by_name("owner").await.unwrap().unwrap().id).await.unwrap();
    assert_eq!(workspaces[0].name, "Team Two");
}
on_both_databases!(workspace_members_and_roles_on, workspace_members_and_roles);

async fn non_member_gets_404_everywhere(app: &TestApp) {
    let (a_user, _) = workspace_with_model(app, "alice", "team-a").await;
    let (b_user, _) = workspace_with_model(app, "bob", "team-b").await;
    let alice = app.login("alice", PASSWORD).await;
    let alice_token = api_token(&app.db, a_user).await;
    let bob_token = api_token(&app.db, b_user).await;
    // Bob's data exists, so a 404 for Alice means hidden, not missing.
    let ingested = app.send(bearer("POST", &records_path("team-b", "training"), &bob_token, "text/csv", GOOD_CSV.into())).await;
    assert_eq!(ingested.status(), StatusCode::CREATED);

    let pages = [
        "/w/team-b",
        "/w/team-b/settings",
        "/w/team-b/models/churn",
        "/w/team-b/models/churn/features/age",
        "/w/team-b/models/churn/quality",
        "/w/team-b/models/churn/performance",
        "/w/team-b/models/churn?version=v1&baseline=training",
    ];
    for page in pages {
        let response = app.send(alice.get(page)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "page {page}");
    }

    let forms = [
        ("/w/team-b/rename", "name=Mine"),
        ("/w/team-b/members", "username=alice&role=owner"),
        ("/w/team-b/members/bob/role", "role=viewer"),
        ("/w/team-b/members/bob/remove", ""),
        ("/w/team-b/models", "name=x&id_column=id&timestamp_column=ts&numeric_features=a"),
    ];
    for (path, body) in forms {
        let response = app.send(alice.post_form(path, body)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "form {path}");
    }

    let api = [
        ("GET", "/api/v1/workspaces/team-b/models".to_string()),
        ("GET", "/api/v1/workspaces/team-b/models/churn/drift".to_string()),
        ("GET", "/api/v1/workspaces/team-b/models/churn/quality".to_string()),
        ("GET", "/api/v1/workspaces/team-b/models/churn/performance".to_string()),
        ("POST", records_path("team-b", "production")),
        ("POST", "/api/v1/workspaces/team-b/models".to_string()),
    ];
    let create_model = br#"{"name":"x","schema":{"id_column":"id","timestamp_column":"ts","columns":[{"name":"a","kind":"numeric","role":"feature"}]}}"#;
    for (method, path) in &api {
        let (content_type, body) = if path.ends_with("/models") && *method == "POST" {
            ("application/json", create_model.to_vec())
        } else {
            ("text/csv", GOOD_CSV.as_bytes().to_vec())
        };
        let response = app.send(bearer(method, path, &alice_token, content_type, body)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }

    let upload = Request::post("/w/team-b/models/churn/upload?csrf_token=".to_string() + &alice.csrf_token)
        .header(header::COOKIE, &alice.cookie)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body(Body::from(multipart_body("v1", "production", GOOD_CSV)))
        .unwrap();
    assert_eq!(app.send(upload).await.status(), StatusCode::NOT_FOUND, "upload form");

    use leptos::server_fn::ServerFn;
    let server_fns = [
        format!("{}?slug=team-b", <orrery::pages::workspace::GetWorkspace as ServerFn>::PATH),
        format!("{}?workspace=team-b&model=churn", <orrery::pages::drift::GetDriftReport as ServerFn>::PATH),
        format!("{}?workspace=team-b&model=churn&feature=age", <orrery::pages::feature::GetFeatureReport as ServerFn>::PATH),
        format!("{}?workspace=team-b&model=churn", <orrery::pages::quality::GetQualityReport as ServerFn>::PATH),
        format!("{}?workspace=team-b&model=churn", <orrery::pages::performance::GetPerformanceReport as ServerFn>::PATH),
    ];
    for path in &server_fns {
        let response = app.send(alice.get(path)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "server function {path}");
    }

    let bob_token_id = app.db.tokens_of(b_user).await.unwrap()[0].id;
    let revoke = app.send(alice.post_form(&format!("/account/tokens/{bob_token_id}/revoke"), "")).await;
    assert_eq!(revoke.status(), StatusCode::NOT_FOUND, "another user's token");
}
on_both_databases!(non_member_gets_404_everywhere_on, non_member_gets_404_everywhere);

fn multipart_body(version: &str, environment: &str, csv: &str) -> String {
    format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"version\"\r\n\r\n{version}\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"environment\"\r\n\r\n{environment}\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"batch.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n\
         --XyZ--\r\n"
    )
}

async fn viewer_cannot_ingest(app: &TestApp) {
    let (_, workspace_id) = workspace_with_model(app, "owner", "team").await;
    let viewer_id = app.create_user("vic", PASSWORD).await;
    app.db.upsert_member(workspace_id, viewer_id, Role::Viewer).await.unwrap();
    let token = api_token(&app.db, viewer_id).await;
    let viewer = app.login("vic", PASSWORD).await;

    let api = app.send(bearer("POST", &records_path("team", "production"), &token, "text/csv", GOOD_CSV.into())).await;
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
    let message = body_json(api).await["message"].as_str().unwrap().to_string();
    assert!(message.contains("viewer"), "{message}");

    let upload = Request::post(format!("/w/team/models/churn/upload?csrf_token={}", viewer.csrf_token))
        .header(header::COOKIE, &viewer.cookie)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XyZ")
        .body(Body::from(multipart_body("v1", "production", GOOD_CSV)))
        .unwrap();
    assert_eq!(app.send(upload).await.status(), StatusCode::FORBIDDEN);

    let page = app.send(viewer.get("/w/team/models/churn")).await;
    assert_eq!(page.status(), StatusCode::OK, "a viewer still reads");
    let model = app.db.model(workspace_id, "churn").await.unwrap().unwrap();
    assert!(app.db.versions(model.id).await.unwrap().is_empty(), "nothing was stored");
}
on_both_databases!(viewer_cannot_ingest_on, viewer_cannot_ingest);

async fn api_ingest_counts_rows(app: &TestApp) {
    let (user_id, workspace_id) = workspace_with_model(app, "owner", "team").await;
    let token = api_token(&app.db, user_id).await;

    let response = app.send(bearer("POST", &records_path("team", "training"), &token, "text/csv", GOOD_CSV.into())).await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let outcome = body_json(response).await;
    assert_eq!(outcome["rows_ingested"], 3);
    assert_eq!(outcome["rows_skipped"], 0);
    let model = app.db.model(workspace_id, "churn").await.unwrap().unwrap();
    let versions = app.db.versions(model.id).await.unwrap();
    assert_eq!(versions[0].version, "v1");
    assert_eq!(versions[0].training_rows, 3);
    let tokens = app.db.tokens_of(user_id).await.unwrap();
    assert!(tokens[0].last_used_at_ms.is_some(), "token use is recorded");
}
on_both_databases!(api_ingest_counts_rows_on, api_ingest_counts_rows);

async fn bad_row_rejects_whole_file(app: &TestApp) {
    let (user_id, workspace_id) = workspace_with_model(app, "owner", "team").await;
    let token = api_token(&app.db, user_id).await;

    let response = app.send(bearer("POST", &records_path("team", "production"), &token, "text/csv", BAD_CSV.into())).await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = body_json(response).await;
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("row 2"), "{message}");
    assert!(message.contains("\"age\""), "{message}");
    assert!(message.contains("forty"), "{message}");
    assert_eq!(body["details"]["rows"][0]["row"], 2);
    let model = app.db.model(workspace_id, "churn").await.unwrap().unwrap();
    let versions = app.db.versions(model.id).await.unwrap();
    assert_eq!(versions[0].production_rows, 0, "a rejected file stores nothing");
    let summaries = app.db.load_summaries(app.db.version_id(model.id, "v1").await.unwrap().unwrap(), orrery::types::Environment::Production, None, None, None).await.unwrap();
    assert!(summaries.is_empty());
}
on_both_databases!(bad_row_rejects_whole_file_on, bad_row_rejects_whole_file);

async fn skip_bad_rows_lists_skipped(app: &TestApp) {
    let (user_id, _) = workspace_with_model(app, "owner", "team").await;
    let token = api_token(&app.db, user_id).await;
    let path = records_path("team", "production") + "&skip_bad_rows=true";

    let response = app.send(bearer("POST", &path, &token, "text/csv", BAD_CSV.into())).await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let outcome = body_json(response).await;
    assert_eq!(outcome["rows_ingested"], 2);
    assert_eq!(outcome["rows_skipped"], 1);
    assert_eq!(outcome["skipped"][0]["row"], 2);
    assert_eq!(outcome["skipped"][0]["column"], "age");
    assert_eq!(outcome["skipped"][0]["value"], "forty");
}
on_both_databases!(skip_bad_rows_lists_skipped_on, skip_bad_rows_lists_skipped);

async fn revoked_token_is_rejected(app: &TestApp) {
    let (user_id, _) = workspace_with_model(app, "owner", "team").await;
    let token = api_token(&app.db, user_id).await;
    let token_id = app.db.tokens_of(user_id).await.unwrap()[0].id;
    assert!(app.db.revoke_token(user_id, token_id).await.unwrap());

    let response = app.send(bearer("GET", "/api/v1/workspaces/team/models", &token, "application/json", Vec::new())).await;

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
on_both_databases!(revoked_token_is_rejected_on, revoked_token_is_rejected);

async fn token_created_in_ui_is_shown_once(app: &TestApp) {
    app.create_user("alice", PASSWORD).await;
    let browser = app.login("alice", PASSWORD).await;

    let created = app.send(browser.post_form("/account/tokens", "name=ci-pipeline")).await;
    assert_eq!(location(&created), "/account/tokens");
    let first = body_text(app.send(browser.get("/account/tokens")).await).await;
    let second = body_text(app.send(browser.get("/account/tokens")).await).await;

    assert!(first.contains("data-testid=\"new-token\""));
    assert!(first.contains("orr_"));
    assert!(!second.contains("data-testid=\"new-token\""), "the secret is shown only once");
    assert!(second.contains("ci-pipeline"));
}
on_both_databases!(token_created_in_ui_is_shown_once_on, token_created_in_ui_is_shown_once);

async fn health_endpoints_answer(app: &TestApp) {
    let health = app.send(Request::get("/healthz").body(Body::empty()).unwrap()).await;
    let ready = app.send(Request::get("/readyz").body(Body::empty()).unwrap()).await;

    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(body_json(ready).await["status"], "ready");
}
on_both_databases!(health_endpoints_answer_on, health_endpoints_answer);

async fn invalid_window_names_value(app: &TestApp) {
    let (user_id, _) = workspace_with_model(app, "owner", "team").await;
    let token = api_token(&app.db, user_id).await;
    app.send(bearer("POST", &records_path("team", "training"), &token, "text/csv", GOOD_CSV.into())).await;

    let path = "/api/v1/workspaces/team/models/churn/drift?from=2024-13-01";
    let response = app.send(bearer("GET", path, &token, "application/json", Vec::new())).await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let message = body_json(response).await["message"].as_str().unwrap().to_string();
    assert!(message.contains("2024-13-01"), "{message}");
    assert!(message.contains("YYYY-MM-DD"), "{message}");

    let browser = app.login("owner", PASSWORD).await;
    let page = app.send(browser.get("/w/team/models/churn?from=2024-13-01")).await;
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    let html = body_text(page).await;
    assert!(html.contains("invalid from date &quot;2024-13-01&quot;") || html.contains("invalid from date \"2024-13-01\""), "{html}");
    assert!(!html.contains("error running server function"));
    assert!(html.contains("Open the default view"));
}
on_both_databases!(invalid_window_names_value_on, invalid_window_names_value);

async fn session_works_on_another_replica(app: &TestApp) {
    app.create_user("alice", PASSWORD).await;
    let replica = app.replica().await;
    let browser = app.login("alice", PASSWORD).await;

    let page = replica.send(browser.get("/account/tokens")).await;
    let created = replica.send(browser.post_form("/workspaces", "name=Shared")).await;

    assert_eq!(page.status(), StatusCode::OK, "the session store is shared");
    assert_eq!(location(&created), "/w/shared", "the CSRF token is valid on every replica");
    replica.finish().await;
}
on_both_databases!(session_works_on_another_replica_on, session_works_on_another_replica);

fn json_records_path(workspace: &str) -> String {
    format!("/api/v1/workspaces/{workspace}/models/churn/versions/v1/environments/production/records")
}

async fn json_and_ndjson_batches_ingest(app: &TestApp) {
    let (user_id, workspace_id) = workspace_with_model(app, "owner", "team").await;
    let token = api_token(&app.db, user_id).await;
    let array = br#"{"records": [{"id": 1, "ts": "2024-03-01T10:00:00Z", "age": 30, "plan": "basic", "pred": 0},
                                {"id": 2, "ts": "2024-03-01T11:00:00Z", "age": 41.5, "plan": "pro", "pred": 1}]}"#;
    let lines = b"{\"id\": 3, \"ts\": 1709290800, \"age\": 25, \"plan\": \"basic\", \"pred\": 0}\n{\"id\": 4, \"ts\": 1709294400, \"age\": null, \"plan\": \"pro\", \"pred\": 1}\n";

    let batch = app.send(bearer("POST", &json_records_path("team"), &token, "application/json", array.to_vec())).await;
    let stream = app.send(bearer("POST", &json_records_path("team"), &token, "application/x-ndjson", lines.to_vec())).await;

    assert_eq!(batch.status(), StatusCode::CREATED);
    assert_eq!(body_json(batch).await["rows_ingested"], 2);
    assert_eq!(stream.status(), StatusCode::CREATED);
    assert_eq!(body_json(stream).await["rows_ingested"], 2);
    let model = app.db.model(workspace_id, "churn").await.unwrap().unwrap();
    assert_eq!(app.db.versions(model.id).await.unwrap()[0].production_rows, 4);
}
on_both_databases!(json_and_ndjson_batches_ingest_on, json_and_ndjson_batches_ingest);

async fn idempotency_key_stores_batch_once(app: &TestApp) {
    let (user_id, workspace_id) = workspace_with_model(app, "owner", "team").await;
    let token = api_token(&app.db, user_id).await;
    let send = |body: &'static str| {
        let mut request = bearer("POST", &records_path("team", "production"), &token, "text/csv", body.into());
        request.headers_mut().insert("idempotency-key", "batch-0001".parse().unwrap());
        request
    };

    let rejected = app.send(send(BAD_CSV)).await;
    let first = app.send(send(GOOD_CSV)).await;
    let retry = app.send(send(GOOD_CSV)).await;

    assert_eq!(rejected.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(first.status(), StatusCode::CREATED, "a failed ingestion gives its key up");
    let first = body_json(first).await;
    assert_eq!(retry.status(), StatusCode::OK);
    let retry = body_json(retry).await;
    assert_eq!(retry["replayed"], true);
    assert_eq!(retry["ingestion_id"], first["ingestion_id"]);
    assert_eq!(retry["rows_ingested"], 3);
    let model = app.db.model(workspace_id, "churn").await.unwrap().unwrap();
    assert_eq!(app.db.versions(model.id).await.unwrap()[0].production_rows, 3, "the retry stored nothing");
}
on_both_databases!(idempotency_key_stores_batch_once_on, idempotency_key_stores_batch_once);

/// Leptos suppresses resource loading process-wide while it generates a route list, and a
/// page whose resource starts in that window never finishes. Building
/// routers on another thread while pages render must leave every page complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_while_routers_are_built() {
    let app = TestApp::sqlite().await;
    app.create_user("alice", PASSWORD).await;
    let browser = app.login("alice", PASSWORD).await;

    let state = app.state.clone();
    let builder = std::thread::spawn(move || {
        for _ in 0..40 {
            drop(orrery::server::router(state.clone()));
        }
    });
    for attempt in 0..60 {
        let page = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            body_text(app.send(browser.get("/account/tokens")).await).await
        })
        .await
        .unwrap_or_else(|_| panic!("page load {attempt} did not finish within 20 s"));
        assert!(page.contains("Create a token"), "page load {attempt} is complete");
    }
    builder.join().expect("the router builder thread");
    app.finish().await;
}
