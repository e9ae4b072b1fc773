//! Browser forms that change workspaces, members, models and API tokens. Each handler
//! checks access, acts, and redirects back to the page it came from, with `?error=` on a
//! rejected value.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::{Form, Router};
use serde::Deserialize;
use tower_sessions::Session;

use super::auth::CurrentUser;
use crate::url::percent_encode;
use super::errors::ApiError;
use super::AppState;
use crate::accounts::tokens::new_api_token;
use crate::accounts::{slugify, validate_name};
use crate::db::workspaces::Membership;
use crate::db::Db;
use crate::monitoring::schema::{ColumnKind, ColumnRole, ColumnSpec, ModelSchema};
use crate::types::Role;

pub const SESSION_NEW_TOKEN_KEY: &str = "new_api_token";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/workspaces", post(create_workspace))
        .route("/w/{workspace}/rename", post(rename_workspace))
        .route("/w/{workspace}/members", post(add_member))
        .route("/w/{workspace}/members/{username}/role", post(change_role))
        .route("/w/{workspace}/members/{username}/remove", post(remove_member))
        .route("/w/{workspace}/models", post(create_model))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

/// Returns the workspace if `user` is a member with at least the rights `allowed` checks;
/// a non-member gets 404 so that workspace names leak nothing.
pub async fn require_workspace(
    db: &Db,
    user: &CurrentUser,
    slug: &str,
    allowed: fn(Role) -> bool,
    action: &str,
) -> Result<Membership, ApiError> {
    let membership = db
        .membership(user.id, slug)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("workspace \"{slug}\" not found")))?;
    // A token limited to one workspace sees no other, as if the user were not a member.
    if user.token_workspace_id.is_some_and(|scope| scope != membership.workspace_id) {
        return Err(ApiError::not_found(format!("workspace \"{slug}\" not found for this API token, which is limited to another workspace")));
    }
    if !allowed(membership.role) {
        return Err(ApiError::forbidden(format!(
            "your role in workspace \"{slug}\" is {}, which cannot {action}; ask an owner or admin",
            membership.role.as_str()
        )));
    }
    Ok(membership)
}

pub fn check_workspace_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.chars().count() > 100 {
        return Err(format!("invalid workspace name \"{name}\": use 1 to 100 characters"));
    }
    if slugify(name).is_empty() {
        return Err(format!("invalid workspace name \"{name}\": include at least one letter or digit"));
    }
    Ok(())
}

/// Derives a free slug from `name`, adding `-2`, `-3`, … when taken.
pub async fn unique_slug(db: &Db, name: &str) -> Result<String, ApiError> {
    let base = slugify(name);
    let mut slug = base.clone();
    let mut suffix = 2;
    while db.workspace_slug_taken(&slug).await? {
        slug = format!("{base}-{suffix}");
        suffix += 1;
    }
    Ok(slug)
}

pub(crate) fn back_with_error(path: &str, message: &str) -> Response {
    Redirect::to(&format!("{path}?error={}", percent_encode(message))).into_response()
}

#[derive(Deserialize)]
struct NameForm {
    name: String,
}

/// Handles the POST /workspaces route.
async fn create_workspace(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<NameForm>,
) -> Result<Response, ApiError> {
    let name = form.name.trim();
    if let Err(message) = check_workspace_name(name) {
        return Ok(back_with_error("/workspaces", &message));
    }

    let slug = unique_slug(&state.db, name).await?;
    state.db.create_workspace(&slug, name, user.id).await?;
    tracing::info!(user = user.id, workspace = %slug, "workspace created");
    Ok(Redirect::to(&format!("/w/{slug}")).into_response())
}

/// Handles the POST /w/{workspace}/rename route.
async fn rename_workspace(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Form(form): Form<NameForm>,
) -> Result<Response, ApiError> {
    let workspace =
        require_workspace(&state.db, &user, &slug, Role::can_administer, "rename it").await?;
    let settings = format!("/w/{slug}/settings");
    let name = form.name.trim();
    if let Err(message) = check_workspace_name(name) {
        return Ok(back_with_error(&settings, &message));
    }

    state.db.rename_workspace(workspace.workspace_id, name).await?;
    tracing::info!(user = user.id, workspace = %slug, "workspace renamed");
    Ok(Redirect::to(&settings).into_response())
}

#[derive(Deserialize)]
struct MemberForm {
    username: String,
    role: String,
}

/// Handles the POST /w/{workspace}/members route: adds a user by name.
async fn add_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Form(form): Form<MemberForm>,
) -> Result<Response, ApiError> {
    let workspace =
        require_workspace(&state.db, &user, &slug, Role::can_administer, "add members").await?;
    let settings = format!("/w/{slug}/settings");
    let username = form.username.trim().to_lowercase();
    let Some(role) = Role::parse(&form.role) else {
        return Ok(back_with_error(&settings, &format!("unknown role \"{}\"; use owner, admin, member or viewer", form.role)));
    };
    if role == Role::Owner && workspace.role != Role::Owner {
        return Ok(back_with_error(&settings, "only an owner can make another member an owner"));
    }
    let Some(member) = state.db.user_by_name(&username).await? else {
        return Ok(back_with_error(&settings, &format!("no user is named \"{username}\"; check the spelling or ask an administrator to create the account")));
    };
    if member_of(&state.db, workspace.workspace_id, &username).await?.is_some() {
        return Ok(back_with_error(&settings, &format!("\"{username}\" is already a member; change their role in the table instead")));
    }

    state.db.upsert_member(workspace.workspace_id, member.id, role).await?;
    tracing::info!(user = user.id, workspace = %slug, member = member.id, role = role.as_str(), "member added");
    Ok(Redirect::to(&settings).into_response())
}

#[derive(Deserialize)]
struct RoleForm {
    role: String,
}

/// Handles the POST /w/{workspace}/members/{username}/role route.
async fn change_role(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, username)): Path<(String, String)>,
    Form(form): Form<RoleForm>,
) -> Result<Response, ApiError> {
    let workspace =
        require_workspace(&state.db, &user, &slug, Role::can_administer, "change roles").await?;
    let settings = format!("/w/{slug}/settings");
    let Some(role) = Role::parse(&form.role) else {
        return Ok(back_with_error(&settings, &format!("unknown role \"{}\"; use owner, admin, member or viewer", form.role)));
    };
    let Some(member) = member_of(&state.db, workspace.workspace_id, &username).await? else {
        return Ok(back_with_error(&settings, &format!("\"{username}\" is not a member of this workspace")));
    };
    let touches_owner = role == Role::Owner || member.1 == Role::Owner;
    if touches_owner && workspace.role != Role::Owner {
        return Ok(back_with_error(&settings, "only an owner can grant or take away the owner role"));
    }
    if member.1 == Role::Owner && role != Role::Owner && state.db.count_owners(workspace.workspace_id).await? <= 1 {
        return Ok(back_with_error(&settings, "a workspace needs at least one owner; make someone else owner first"));
    }

    state.db.upsert_member(workspace.workspace_id, member.0, role).await?;
    tracing::info!(user = user.id, workspace = %slug, member = member.0, role = role.as_str(), "role changed");
    Ok(Redirect::to(&settings).into_response())
}

/// Handles the POST /w/{workspace}/members/{username}/remove route.
async fn remove_member(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((slug, username)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let workspace =
        require_workspace(&state.db, &user, &slug, Role::can_administer, "remove members").await?;
    let settings = format!("/w/{slug}/settings");
    let Some(member) = member_of(&state.db, workspace.workspace_id, &username).await? else {
        return Ok(back_with_error(&settings, &format!("\"{username}\" is not a member of this workspace")));
    };
    if member.1 == Role::Owner && workspace.role != Role::Owner {
        return Ok(back_with_error(&settings, "only an owner can remove an owner"));
    }
    if member.1 == Role::Owner && state.db.count_owners(workspace.workspace_id).await? <= 1 {
        return Ok(back_with_error(&settings, "a workspace needs at least one owner; make someone else owner first"));
    }

    state.db.remove_member(workspace.workspace_id, member.0).await?;
    tracing::info!(user = user.id, workspace = %slug, member = member.0, "member removed");
    Ok(Redirect::to(&settings).into_response())
}

/// Returns the user id and role of `username` in the workspace.
async fn member_of(db: &Db, workspace_id: i64, username: &str) -> Result<Option<(i64, Role)>, ApiError> {
    let Some(account) = db.user_by_name(username).await? else { return Ok(None) };
    let role = db
        .members(workspace_id)
        .await?
        .into_iter()
        .find(|member| member.username == account.username)
        .map(|member| member.role);
    Ok(role.map(|role| (account.id, role)))
}

/// The model-creation form: column lists are comma-separated names.
#[derive(Deserialize)]
pub struct ModelForm {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub id_column: String,
    pub timestamp_column: String,
    #[serde(default)]
    pub numeric_features: String,
    #[serde(default)]
    pub categorical_features: String,
    #[serde(default)]
    pub prediction: String,
    #[serde(default)]
    pub prediction_kind: String,
    #[serde(default)]
    pub prediction_score: String,
    #[serde(default)]
    pub actual: String,
    /// Per-column drift settings, one `column: method [threshold]` per line, where `default`
    /// as the method keeps Evidently's pick and changes the threshold only.
    #[serde(default)]
    pub drift_overrides: String,
}

impl ModelForm {
    /// Builds and checks the schema: every name appears once, and there is at least one
    /// monitored column.
    pub fn schema(&self) -> Result<ModelSchema, String> {
        let split = |text: &str| -> Vec<String> {
            text.split(',').map(|name| name.trim().to_string()).filter(|name| !name.is_empty()).collect()
        };
        let kind_of = |text: &str| if text == "numeric" { ColumnKind::Numeric } else { ColumnKind::Categorical };

        let mut columns = Vec::new();
        for name in split(&self.numeric_features) {
            columns.push(ColumnSpec::new(name, ColumnKind::Numeric, ColumnRole::Feature));
        }
        for name in split(&self.categorical_features) {
            columns.push(ColumnSpec::new(name, ColumnKind::Categorical, ColumnRole::Feature));
        }
        if !self.prediction.trim().is_empty() {
            let kind = kind_of(self.prediction_kind.trim());
            columns.push(ColumnSpec::new(self.prediction.trim().to_string(), kind, ColumnRole::Prediction));
        }
        if !self.prediction_score.trim().is_empty() {
            columns.push(ColumnSpec::new(self.prediction_score.trim().to_string(), ColumnKind::Numeric, ColumnRole::PredictionScore));
        }
        if !self.actual.trim().is_empty() {
            let kind = kind_of(self.prediction_kind.trim());
            columns.push(ColumnSpec::new(self.actual.trim().to_string(), kind, ColumnRole::Actual));
        }

        apply_drift_overrides(&mut columns, &self.drift_overrides)?;

        let schema = ModelSchema {
            id_column: self.id_column.trim().to_string(),
            timestamp_column: self.timestamp_column.trim().to_string(),
            columns,
        };
        validate_schema(&schema)?;
        Ok(schema)
    }
}

/// Sets drift methods and thresholds from lines such as `age: psi 0.2`, `country: chisquare`
/// or `income: default 0.15`. Blank lines are skipped.
fn apply_drift_overrides(columns: &mut [ColumnSpec], text: &str) -> Result<(), String> {
    const FORM: &str = "write one column per line as \"column: method [threshold]\", such as \"age: psi 0.2\"";
    let mut seen = std::collections::HashSet::new();
    for (number, line) in text.lines().enumerate().map(|(index, line)| (index + 1, line.trim())) {
        if line.is_empty() {
            continue;
        }
        let Some((name, setting)) = line.split_once(':') else {
            return Err(format!("drift override line {number} \"{line}\" has no colon; {FORM}"));
        };
        let name = name.trim();
        if !seen.insert(name.to_string()) {
            return Err(format!("drift override line {number} names column \"{name}\" a second time; keep one line per column"));
        }
        let column = columns.iter_mut().find(|column| column.name == name).ok_or_else(|| {
            format!("drift override line {number} names column \"{name}\", which the model does not monitor; list it among the columns first")
        })?;
        let mut words = setting.split_whitespace();
        let method = words
            .next()
            .ok_or_else(|| format!("drift override line {number} \"{line}\" has no method; {FORM}"))?
            .to_lowercase();
        let threshold = match words.next() {
            None => None,
            Some(text) => Some(text.parse::<f64>().map_err(|_| {
                format!("invalid threshold \"{text}\" on drift override line {number}; use a number such as 0.05")
            })?),
        };
        if let Some(extra) = words.next() {
            return Err(format!("drift override line {number} has an extra \"{extra}\"; {FORM}"));
        }
        if method == "default" && threshold.is_none() {
            return Err(format!("drift override line {number} changes nothing: give a threshold after \"default\", or remove the line"));
        }
        column.drift_method = (method != "default").then_some(method);
        column.drift_threshold = threshold;
    }
    Ok(())
}

/// Checks that a schema names its id and timestamp columns, monitors at least one column,
/// and uses no name twice.
pub fn validate_schema(schema: &ModelSchema) -> Result<(), String> {
    if schema.id_column.is_empty() {
        return Err("the id column is missing; name the column that identifies each prediction".into());
    }
    if schema.timestamp_column.is_empty() {
        return Err("the timestamp column is missing; name the column with each prediction's time".into());
    }
    if schema.columns.is_empty() {
        return Err("the schema has no features; list at least one numeric or categorical feature".into());
    }
    let mut seen = std::collections::HashSet::new();
    seen.insert(schema.id_column.as_str());
    if !seen.insert(schema.timestamp_column.as_str()) {
        return Err(format!("column \"{}\" is used twice; each column plays one role", schema.timestamp_column));
    }
    for column in &schema.columns {
        if !seen.insert(column.name.as_str()) {
            return Err(format!("column \"{}\" is used twice; each column plays one role", column.name));
        }
        validate_drift_override(column)?;
    }
    Ok(())
}

/// Checks a column's drift method and threshold overrides against its kind.
pub(crate) fn validate_drift_override(column: &ColumnSpec) -> Result<(), String> {
    use crate::monitoring::stats::StatMethod;
    let method = match column.drift_method.as_deref() {
        None => None,
        Some(name) => {
            let method = StatMethod::from_name(name).ok_or_else(|| {
                format!(
                    "invalid drift_method \"{name}\" for column \"{}\"; use psi, jensenshannon, wasserstein, ks, chisquare or z",
                    column.name
                )
            })?;
            let fits = match method {
                StatMethod::Wasserstein | StatMethod::Ks => column.kind == ColumnKind::Numeric,
                StatMethod::ChiSquare | StatMethod::ZTest => column.kind == ColumnKind::Categorical,
                StatMethod::Psi | StatMethod::JensenShannon => true,
            };
            if !fits {
                let kind = if column.kind == ColumnKind::Numeric { "numeric" } else { "categorical" };
                return Err(format!(
                    "drift_method \"{name}\" does not apply to the {kind} column \"{}\"; numeric columns take psi, jensenshannon, wasserstein or ks, categorical ones psi, jensenshannon, chisquare or z",
                    column.name
                ));
            }
            Some(method)
        }
    };
    if let Some(threshold) = column.drift_threshold {
        let is_test = method.is_some_and(StatMethod::is_test);
        let valid = threshold.is_finite() && threshold > 0.0 && (!is_test || threshold < 1.0);
        if !valid {
            return Err(format!(
                "invalid drift_threshold {threshold} for column \"{}\"; use a p-value between 0 and 1 for a test, or a distance above 0",
                column.name
            ));
        }
    }
    Ok(())
}

pub fn validate_model_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid {
        return Err(format!(
            "invalid model name \"{name}\": use 1 to 100 letters, digits, '-', '_' or '.'"
        ));
    }
    Ok(())
}

/// Handles the POST /w/{workspace}/models route.
async fn create_model(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(slug): Path<String>,
    Form(form): Form<ModelForm>,
) -> Result<Response, ApiError> {
    let workspace =
        require_workspace(&state.db, &user, &slug, Role::can_write, "create models").await?;
    let home = format!("/w/{slug}");
    let name = form.name.trim();
    let schema = match validate_model_name(name).and_then(|_| form.schema()) {
        Ok(schema) => schema,
        Err(message) => return Ok(back_with_error(&home, &message)),
    };

    match state.db.create_model(workspace.workspace_id, name, form.description.trim(), &schema).await {
        Ok(_) => {}
        Err(error) if crate::db::is_unique_violation(&error) => {
            return Ok(back_with_error(&home, &format!("a model named \"{name}\" already exists in this workspace")));
        }
        Err(error) => return Err(error.into()),
    }
    tracing::info!(user = user.id, workspace = %slug, model = name, "model created");
    Ok(Redirect::to(&home).into_response())
}

/// Handles the POST /account/tokens route: the new secret waits in the session until the
/// tokens page shows it, once.
async fn create_token(
    State(state): State<AppState>,
    session: Session,
    user: CurrentUser,
    Form(form): Form<TokenForm>,
) -> Result<Response, ApiError> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Ok(back_with_error("/account/tokens", "invalid token name: use 1 to 100 characters, such as \"ci-pipeline\""));
    }
    let workspace_id = match form.workspace.as_deref().map(str::trim).filter(|slug| !slug.is_empty()) {
        Some(slug) => match state.db.membership(user.id, slug).await? {
            Some(membership) => Some(membership.workspace_id),
            None => return Ok(back_with_error("/account/tokens", &format!("you are not a member of a workspace \"{slug}\"; pick one from the list"))),
        },
        None => None,
    };

    let token = new_api_token();
    state.db.create_token(user.id, name, &token.hash, &token.display_prefix, workspace_id).await?;
    session.insert(SESSION_NEW_TOKEN_KEY, token.secret).await.map_err(ApiError::session)?;
    tracing::info!(user = user.id, token_name = name, "API token created");
    Ok(Redirect::to("/account/tokens").into_response())
}

#[derive(Deserialize)]
struct TokenForm {
    name: String,
    /// Slug of the only workspace the token may act in; empty for all.
    #[serde(default)]
    workspace: Option<String>,
}

/// Handles the POST /account/tokens/{id}/revoke route.
async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    if !state.db.revoke_token(user.id, id).await? {
        return Err(ApiError::not_found(format!("API token {id} not found")));
    }
    tracing::info!(user = user.id, token = id, "API token revoked");
    Ok(Redirect::to("/account/tokens").into_response())
}

/// Creates a user from the command line or the demo loader.
pub async fn create_user_account(db: &Db, username: &str, password: &str, is_admin: bool) -> Result<i64, String> {
    let username = username.trim().to_lowercase();
    validate_name("username", &username)?;
    check_password_rules_owned(password)?;
    let hash = crate::accounts::passwords::hash_password(password);
    match db.create_user(&username, &hash, is_admin).await {
        Ok(id) => Ok(id),
        Err(error) if crate::db::is_unique_violation(&error) => Err(format!("a user named \"{username}\" already exists")),
        Err(error) => Err(format!("creating user \"{username}\" failed: {error}")),
    }
}

fn check_password_rules_owned(password: &str) -> Result<(), String> {
    crate::accounts::passwords::check_password_rules(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(drift_overrides: &str) -> ModelForm {
        ModelForm {
            name: "churn".into(),
            description: String::new(),
            id_column: "id".into(),
            timestamp_column: "ts".into(),
            numeric_features: "age, income".into(),
            categorical_features: "country".into(),
            prediction: String::new(),
            prediction_kind: String::new(),
            prediction_score: String::new(),
            actual: String::new(),
            drift_overrides: drift_overrides.into(),
        }
    }

    #[test]
    fn overrides_set_method_and_threshold() {
        let schema = form("age: PSI 0.2\n\n country : chisquare\nincome: default 0.15\n").schema().unwrap();

        let age = schema.column("age").unwrap();
        assert_eq!((age.drift_method.as_deref(), age.drift_threshold), (Some("psi"), Some(0.2)));
        let country = schema.column("country").unwrap();
        assert_eq!((country.drift_method.as_deref(), country.drift_threshold), (Some("chisquare"), None));
        let income = schema.column("income").unwrap();
        assert_eq!((income.drift_method.as_deref(), income.drift_threshold), (None, Some(0.15)));
    }

    #[test]
    fn override_errors_name_line_and_value() {
        let cases = [
            ("age psi", "line 1 \"age psi\" has no colon"),
            ("height: psi", "names column \"height\", which the model does not monitor"),
            ("age: psi high", "invalid threshold \"high\" on drift override line 1"),
            ("\nage: default", "line 2 changes nothing"),
            ("country: ks", "drift_method \"ks\" does not apply to the categorical column \"country\""),
            ("age: psi 0.2 0.3", "has an extra \"0.3\""),
            ("age: ks 1.5", "invalid drift_threshold 1.5"),
            ("age: psi 0.2\nage: ks", "line 2 names column \"age\" a second time"),
        ];
        for (text, expected) in cases {
            let error = form(text).schema().unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
