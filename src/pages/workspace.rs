//! Workspaces: the list, a workspace's models with upload and create forms, and its members.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::app::CurrentViewer;
use crate::components::{csrf_token, format_count, CsrfField, FormError};
use crate::types::{ModelInfo, Role, WorkspaceDetail};

#[server(input = GetUrl)]
pub async fn get_workspace(slug: String) -> Result<WorkspaceDetail, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, workspace) = workspace_member(&slug).await?;
    crate::monitoring::drift::workspace_detail(&state.db, &workspace)
        .await
        .map_err(to_server_error)
}

fn workspace_param() -> impl Fn() -> String + Copy {
    let params = use_params_map();
    move || params.read().get("workspace").unwrap_or_default()
}

#[component]
pub fn WorkspacesPage() -> impl IntoView {
    let viewer = use_context::<CurrentViewer>().and_then(|viewer| viewer.0);
    view! {
        <Title text="Workspaces · Orrery"/>
        <h1>"Workspaces"</h1>
        <FormError/>
        {move || {
                let viewer = viewer.clone()?;
                let rows = viewer.workspaces.into_iter().map(|workspace| {
                    view! {
                        <tr>
                            <td><a href=format!("/w/{}", workspace.slug)>{workspace.name}</a></td>
                            <td><code>{workspace.slug}</code></td>
                            <td>{workspace.role.as_str()}</td>
                        </tr>
                    }
                }).collect_view();
                Some(view! {
                    <table class="data">
                        <thead><tr><th>"Name"</th><th>"Slug"</th><th>"Your role"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                })
        }}
        <section class="card">
            <h2>"Create a workspace"</h2>
            <form method="post" action="/workspaces" class="row-form">
                <CsrfField/>
                <label>"Name" <input name="name" required placeholder="Fraud team"/></label>
                <button type="submit">"Create workspace"</button>
            </form>
        </section>
    }
}

#[component]
pub fn WorkspacePage() -> impl IntoView {
    let slug = workspace_param();
    let detail = Resource::new(slug, get_workspace);

    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view_workspace(detail).into_any(),
                    Err(error) => view! { <p class="form-error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn view_workspace(detail: WorkspaceDetail) -> impl IntoView {
    let slug = detail.slug.clone();
    let can_write = detail.role.can_write();
    let models = detail
        .models
        .iter()
        .map(|model| view_model_row(&slug, model, can_write))
        .collect_view();
    let empty = detail.models.is_empty().then(|| {
        view! { <p class="muted">"No models yet. Create one below, then upload its training data."</p> }
    });
    let create_action = format!("/w/{slug}/models");

    view! {
        <Title text=format!("{} · Orrery", detail.name)/>
        <div class="page-head">
            <h1>{detail.name.clone()}</h1>
            <span class="badge">{detail.role.as_str()}</span>
        </div>
        <FormError/>
        <h2>"Models"</h2>
        {empty}
        <table class="data models">
            <thead>
                <tr>
                    <th>"Model"</th><th>"Latest version"</th><th>"Training rows"</th>
                    <th>"Production rows"</th><th>"Columns"</th><th></th>
                </tr>
            </thead>
            <tbody>{models}</tbody>
        </table>
        {can_write.then(|| view! {
            <details class="card">
                <summary>"Create a model"</summary>
                <form method="post" action=create_action class="grid-form">
                    <CsrfField/>
                    <label>"Name" <input name="name" required placeholder="churn-classifier"/></label>
                    <label>"Description" <input name="description"/></label>
                    <label>"Id column" <input name="id_column" required placeholder="id"/></label>
                    <label>"Timestamp column" <input name="timestamp_column" required placeholder="timestamp"/></label>
                    <label>"Numeric features (comma-separated)" <input name="numeric_features" placeholder="age, income"/></label>
                    <label>"Categorical features (comma-separated)" <input name="categorical_features" placeholder="country, plan"/></label>
                    <label>"Prediction column" <input name="prediction" placeholder="prediction"/></label>
                    <label>"Prediction type"
                        <select name="prediction_kind">
                            <option value="categorical">"categorical (classification)"</option>
                            <option value="numeric">"numeric (regression)"</option>
                        </select>
                    </label>
                    <label>"Prediction score column" <input name="prediction_score" placeholder="probability"/></label>
                    <label>"Actual (label) column" <input name="actual" placeholder="label"/></label>
                    <label class="wide" title="Methods: psi, jensenshannon, wasserstein or ks for numbers; psi, jensenshannon, chisquare or z for categories. 'default' keeps the usual method and changes the threshold only.">
                        "Drift overrides (optional, one column per line: column: method [threshold])"
                        <textarea name="drift_overrides" rows="3" data-testid="drift-overrides" placeholder="age: psi 0.2\ncountry: chisquare\nincome: default 0.15"></textarea>
                    </label>
                    <button type="submit">"Create model"</button>
                </form>
            </details>
        })}
    }
}

fn view_model_row(slug: &str, model: &ModelInfo, can_write: bool) -> impl IntoView {
    let href = format!("/w/{slug}/models/{}", model.name);
    let latest = model.versions.first().cloned();
    let version = latest.as_ref().map(|v| v.version.clone()).unwrap_or_else(|| "—".into());
    let training = latest.as_ref().map(|v| v.training_rows).unwrap_or(0);
    let production = latest.as_ref().map(|v| v.production_rows).unwrap_or(0);
    let upload = format!("/w/{slug}/models/{}/upload", model.name);
    let version_default = latest.map(|v| v.version).unwrap_or_else(|| "v1".into());

    view! {
        <tr>
            <td>
                <a href=href class="strong">{model.name.clone()}</a>
                <div class="muted small">{model.description.clone()}</div>
            </td>
            <td>{version}</td>
            <td class="num">{format_count(training.max(0) as u64)}</td>
            <td class="num">{format_count(production.max(0) as u64)}</td>
            <td class="num">{model.schema.columns.len()}</td>
            <td>
                {can_write.then(|| view! {
                    <details class="upload">
                        <summary>"Upload data"</summary>
                        <UploadForm action=upload version=version_default/>
                    </details>
                })}
            </td>
        </tr>
    }
}

/// Renders the file-upload form. The CSRF token goes in the action URL because the multipart
/// body is streamed to disk, not parsed by the CSRF check.
#[component]
fn UploadForm(action: String, version: String) -> impl IntoView {
    let action_with_token = format!("{action}?csrf_token={}", csrf_token());
    view! {
            <form method="post" action=action_with_token enctype="multipart/form-data" class="stack-form">
                <label>"Version" <input name="version" value=version.clone() required/></label>
                <label>"Environment"
                    <select name="environment">
                        <option value="production">"production"</option>
                        <option value="training">"training"</option>
                        <option value="validation">"validation"</option>
                    </select>
                </label>
                <label class="check"><input type="checkbox" name="skip_bad_rows" value="true"/>" Skip bad rows"</label>
                <label>"CSV, Parquet or JSON file" <input type="file" name="file" accept=".csv,.parquet,.pq,.json,.ndjson,.jsonl" required/></label>
                <button type="submit">"Upload"</button>
            </form>
    }
}

#[component]
pub fn WorkspaceSettingsPage() -> impl IntoView {
    let slug = workspace_param();
    let detail = Resource::new(slug, get_workspace);

    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view_settings(detail).into_any(),
                    Err(error) => view! { <p class="form-error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn view_settings(detail: WorkspaceDetail) -> impl IntoView {
    let slug = detail.slug.clone();
    let admin = detail.role.can_administer();
    let members = detail
        .members
        .iter()
        .map(|member| {
            let role_action = format!("/w/{slug}/members/{}/role", member.username);
            let remove_action = format!("/w/{slug}/members/{}/remove", member.username);
            let options = Role::ALL
                .into_iter()
                .map(|role| view! { <option value=role.as_str() selected=role == member.role>{role.as_str()}</option> })
                .collect_view();
            view! {
                <tr>
                    <td>{member.username.clone()}</td>
                    <td>
                        {if admin {
                            view! {
                                <form method="post" action=role_action class="inline">
                                    <CsrfField/>
                                    <select name="role">{options}</select>
                                    <button type="submit" class="small">"Change"</button>
                                </form>
                            }.into_any()
                        } else {
                            view! { <span>{member.role.as_str()}</span> }.into_any()
                        }}
                    </td>
                    <td>
                        {admin.then(|| view! {
                            <form method="post" action=remove_action class="inline">
                                <CsrfField/>
                                <button type="submit" class="danger small">"Remove"</button>
                            </form>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let rename_action = format!("/w/{slug}/rename");
    let add_action = format!("/w/{slug}/members");

    view! {
        <Title text=format!("Members · {} · Orrery", detail.name)/>
        <div class="page-head">
            <h1><a href=format!("/w/{slug}")>{detail.name.clone()}</a>" · members"</h1>
        </div>
        <FormError/>
        <table class="data">
            <thead><tr><th>"User"</th><th>"Role"</th><th></th></tr></thead>
            <tbody>{members}</tbody>
        </table>
        {admin.then(|| view! {
            <section class="card">
                <h2>"Add a member"</h2>
                <form method="post" action=add_action class="row-form">
                    <CsrfField/>
                    <label>"Username" <input name="username" required/></label>
                    <label>"Role"
                        <select name="role">
                            <option value="member">"member"</option>
                            <option value="viewer">"viewer"</option>
                            <option value="admin">"admin"</option>
                            <option value="owner">"owner"</option>
                        </select>
                    </label>
                    <button type="submit">"Add member"</button>
                </form>
            </section>
            <section class="card">
                <h2>"Rename the workspace"</h2>
                <form method="post" action=rename_action class="row-form">
                    <CsrfField/>
                    <label>"Name" <input name="name" required value=detail.name.clone()/></label>
                    <button type="submit">"Rename"</button>
                </form>
            </section>
        })}
    }
}
