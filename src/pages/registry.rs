//! Model registry pages: the registered models, a model with its versions, aliases,
//! promotion requests and history, a version's lineage and health, and webhooks.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::{format_count, format_stat, format_time, sentence_start, CsrfField, FormError, LoadError, Notice};
use crate::types::{
    AliasSpan, PolicyInfo, RegistryEventInfo, RegistryModelView, RegistryVersionView, RegistryView, RequestView, WebhooksView,
};
use crate::url::percent_encode;

#[server(input = GetUrl)]
pub async fn get_registry(workspace: String) -> Result<RegistryView, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    crate::tracking::views::registry(&state.db, &membership).await.map_err(to_server_error)
}

#[server(input = GetUrl)]
pub async fn get_registered_model(workspace: String, model: String) -> Result<RegistryModelView, ServerFnError> {
    use crate::server::context::{current_user, to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    let user = current_user().await?;
    crate::tracking::views::registry_model(&state.db, &membership, (user.id, &user.username), &model)
        .await
        .map_err(to_server_error)
}

#[server(input = GetUrl)]
pub async fn get_registry_version(workspace: String, model: String, version: i64) -> Result<RegistryVersionView, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    crate::tracking::views::version_view(&state.db, &membership, &model, version).await.map_err(to_server_error)
}

#[server(input = GetUrl)]
pub async fn get_webhooks(workspace: String) -> Result<WebhooksView, ServerFnError> {
    use crate::server::context::{to_server_error, workspace_member};
    let (state, membership) = workspace_member(&workspace).await?;
    if !membership.role.can_administer() {
        return Err(to_server_error(crate::server::errors::ApiError::forbidden(
            "only owners and admins manage webhooks; ask one of them",
        )));
    }
    crate::tracking::views::webhooks(&state.db, &membership).await.map_err(to_server_error)
}

fn param(name: &'static str) -> impl Fn() -> String + Copy {
    let params = use_params_map();
    move || params.read().get(name).unwrap_or_default()
}

fn alias_badges(aliases: &[(String, i64)]) -> impl IntoView {
    aliases
        .iter()
        .map(|(alias, version)| view! { <span class="badge alias">{format!("@{alias} → v{version}")}</span> })
        .collect_view()
}

#[component]
pub fn RegistryPage() -> impl IntoView {
    let workspace = param("workspace");
    let models = Resource::new(workspace, get_registry);
    view! {
        <Title text="Model registry · Orrery"/>
        <div class="page-head"><h1>"Model registry"</h1></div>
        <FormError/>
        <Notice/>
        <p class="muted">
            "Registered models and their versions. Register one from training code with "
            <code>"mlflow.register_model"</code>" or "<code>"log_model(..., registered_model_name=...)"</code>
            "; moving an alias such as production goes through a promotion request."
        </p>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let slug = workspace();
                match models.await {
                    Ok(registry) => {
                        let policy = view_default_policy(&slug, &registry);
                        let models = registry.models;
                        if models.is_empty() {
                            return view! {
                                <p class="muted" data-testid="no-registered-models">"No registered models yet."</p>
                                {policy}
                            }.into_any();
                        }
                        let rows = models.into_iter().map(|model| {
                            let href = format!("/w/{slug}/registry/{}", percent_encode(&model.name));
                            let pending = (model.pending_requests > 0).then(|| view! {
                                <span class="badge warn">{format!("{} pending", model.pending_requests)}</span>
                            });
                            view! {
                                <tr>
                                    <td><a class="strong" href=href>{model.name.clone()}</a><div class="muted small">{model.description.clone()}</div></td>
                                    <td class="num">{model.latest_version.map(|v| format!("v{v}")).unwrap_or_else(|| "—".into())}</td>
                                    <td>{alias_badges(&model.aliases)}</td>
                                    <td>{pending}</td>
                                    <td>{format_time(model.updated_at_ms)}</td>
                                </tr>
                            }
                        }).collect_view();
                        view! {
                            <table class="data" data-testid="registered-models">
                                <thead><tr><th>"Model"</th><th>"Latest"</th><th>"Aliases"</th><th>"Requests"</th><th>"Updated"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                            {policy}
                        }.into_any()
                    }
                    Err(error) => view! { <LoadError error back=format!("/w/{slug}")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn RegisteredModelPage() -> impl IntoView {
    let workspace = param("workspace");
    let model = param("model");
    let view = Resource::new(move || (workspace(), model()), |(workspace, model)| get_registered_model(workspace, model));
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let slug = workspace();
                match view.await {
                    Ok(model) => view_model(slug, model).into_any(),
                    Err(error) => view! { <h1>"Registered model"</h1><LoadError error back=format!("/w/{slug}/registry")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn event_text(event: &RegistryEventInfo) -> String {
    let version = event.version.map(|v| format!("v{v}")).unwrap_or_default();
    let alias = event.alias.clone().unwrap_or_default();
    let request = event.request_id.map(|id| format!(" (request #{id})")).unwrap_or_default();
    match event.kind.as_str() {
        "model_created" => "registered the model".to_string(),
        "version_created" => format!("created version {version}"),
        "version_deleted" => format!("deleted version {version}"),
        "request_created" => format!("asked to move @{alias} to {version}{request}"),
        "review_approved" => format!("approved moving @{alias} to {version}{request}"),
        "request_approved" => format!("completed the approvals for @{alias} → {version}{request}"),
        "request_rejected" => format!("rejected moving @{alias} to {version}{request}"),
        "request_cancelled" => format!("cancelled the request to move @{alias} to {version}{request}"),
        "request_superseded" => format!("replaced an older request for @{alias}{request}"),
        "alias_moved" => match event.previous_version {
            Some(previous) => format!("moved @{alias} from v{previous} to {version}{request}"),
            None => format!("pointed @{alias} at {version}{request}"),
        },
        "alias_set_directly" => match event.previous_version {
            Some(previous) => format!("moved @{alias} directly from v{previous} to {version}, outside the approval workflow"),
            None => format!("pointed @{alias} directly at {version}, outside the approval workflow"),
        },
        "alias_removed" => format!("removed @{alias}"),
        "model_deleted" => "deleted the model".to_string(),
        other => other.replace('_', " "),
    }
}

fn view_history(events: &[RegistryEventInfo]) -> impl IntoView {
    let rows = events
        .iter()
        .map(|event| {
            let comment = (!event.comment.is_empty()).then(|| view! { <div class="muted small">{format!("“{}”", event.comment)}</div> });
            view! {
                <li data-kind=event.kind.clone()>
                    <span class="muted">{format_time(event.created_at_ms)}</span>" "
                    <span class="strong">{event.actor.clone()}</span>" "{event_text(event)}
                    {comment}
                </li>
            }
        })
        .collect_view();
    view! { <ol class="history" data-testid="history">{rows}</ol> }
}

fn view_timeline(spans: &[AliasSpan]) -> impl IntoView {
    if spans.is_empty() {
        return view! { <p class="muted">"No alias has pointed at a version yet."</p> }.into_any();
    }
    let rows = spans
        .iter()
        .rev()
        .map(|span| {
            let until = span.to_ms.map(format_time).unwrap_or_else(|| "now".to_string());
            let how = match span.request_id {
                Some(id) => format!("request #{id}"),
                None => "direct change".to_string(),
            };
            view! {
                <tr>
                    <td><span class="badge alias">{format!("@{}", span.alias)}</span></td>
                    <td class="strong">{format!("v{}", span.version)}</td>
                    <td>{format_time(span.from_ms)}</td>
                    <td>{until}</td>
                    <td>{span.actor.clone()}</td>
                    <td>{how}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data compact" data-testid="alias-timeline">
            <thead><tr><th>"Alias"</th><th>"Version"</th><th>"From"</th><th>"Until"</th><th>"Moved by"</th><th>"Through"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

fn view_request(slug: &str, model: &str, item: RequestView) -> impl IntoView {
    let request = item.request.clone();
    let pending = request.status == "pending";
    let base = format!("/w/{slug}/registry/{}/requests/{}", percent_encode(model), request.id);
    let gates = if item.gates.is_empty() {
        view! { <p class="muted small">"The policy sets no evidence gates."</p> }.into_any()
    } else {
        item.gates
            .iter()
            .map(|gate| {
                let (class, mark) = if gate.passed { ("gate passed", "✓") } else { ("gate failed", "✗") };
                view! { <li class=class>{mark}" "<span class="strong">{gate.gate.clone()}</span>": "{gate.detail.clone()}</li> }
            })
            .collect_view()
            .into_any()
    };
    let current = item.current_version.map(|v| format!("v{v}")).unwrap_or_else(|| "nothing".into());
    let diff = (!item.metric_diff.is_empty()).then(|| {
        let rows = item
            .metric_diff
            .iter()
            .map(|(key, requested, current)| {
                let delta = match (requested, current) {
                    (Some(a), Some(b)) => format!("{:+.4}", a.0 - b.0),
                    _ => String::new(),
                };
                view! {
                    <tr>
                        <td><code>{key.clone()}</code></td>
                        <td class="num">{requested.map(|value| format_stat(value.0)).unwrap_or_else(|| "—".into())}</td>
                        <td class="num">{current.map(|value| format_stat(value.0)).unwrap_or_else(|| "—".into())}</td>
                        <td class="num">{delta}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="data compact" data-testid="metric-diff">
                <thead><tr><th>"Metric of the source run"</th><th>{format!("v{}", request.version)}</th><th>{match item.current_version { Some(v) => format!("v{v} (now)"), None => "Now (no version)".to_string() }}</th><th>"Difference"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    let reviews = request
        .reviews
        .iter()
        .map(|review| {
            let comment = (!review.comment.is_empty()).then(|| format!(": “{}”", review.comment));
            view! { <li>{format!("{} {}d", review.username, review.decision)}{comment}</li> }
        })
        .collect_view();
    let actions = match (&item.review_refusal, pending) {
        (None, true) => view! {
            <form method="post" action=format!("{base}/approve") class="row-form review-form">
                <CsrfField/>
                <input name="comment" placeholder="Comment (optional)" aria-label="review comment"/>
                <button type="submit" class="approve" data-testid="approve">"Approve"</button>
                <button type="submit" class="danger" formaction=format!("{base}/reject") data-testid="reject">"Reject"</button>
            </form>
        }.into_any(),
        (Some(reason), true) => view! { <p class="muted small" data-testid="review-refusal">{sentence_start(reason)}"."</p> }.into_any(),
        _ => ().into_any(),
    };
    let cancel = item.can_cancel.then(|| view! {
        <form method="post" action=format!("{base}/cancel") class="inline">
            <CsrfField/>
            <button type="submit" class="link">"Cancel request"</button>
        </form>
    });
    let status_class = match request.status.as_str() {
        "approved" => "badge ok",
        "rejected" => "badge drift",
        "pending" => "badge warn",
        _ => "badge",
    };
    let comment = (!request.comment.is_empty()).then(|| view! { <blockquote>{request.comment.clone()}</blockquote> });
    view! {
        <article class="card request" data-testid=format!("request-{}", request.id) data-status=request.status.clone()>
            <header class="request-head">
                <h3>{format!("#{}: move @{} to v{}", request.id, request.alias, request.version)}</h3>
                <span class=status_class>{request.status.clone()}</span>
            </header>
            <p class="muted small">
                {format!("Requested by {} on {}", request.requested_by, format_time(request.created_at_ms))}
                {pending.then(|| format!(" · @{} now points at {current}", request.alias))}
                {format!(" · {} of {} approvals", item.approvals, item.required_approvals)}
            </p>
            {comment}
            <ul class="gates">{gates}</ul>
            {diff}
            <ul class="reviews">{reviews}</ul>
            {actions}
            {cancel}
        </article>
    }
}

fn view_model(slug: String, model: RegistryModelView) -> impl IntoView {
    let name = model.name.clone();
    let encoded = percent_encode(&name);
    let versions = model
        .versions
        .iter()
        .map(|version| {
            let href = format!("/w/{slug}/registry/{encoded}/versions/{}", version.version);
            let run = (!version.run_id.is_empty()).then(|| {
                let label = version.run_name.clone().unwrap_or_else(|| version.run_id.clone());
                view! { <a href=format!("/w/{slug}/runs/{}", version.run_id)>{label}</a> }
            });
            let aliases = version.aliases.iter().map(|alias| view! { <span class="badge alias">{format!("@{alias}")}</span> }).collect_view();
            let production = version.production_rows.map(|rows| format!("{} rows", format_count(rows.max(0) as u64))).unwrap_or_default();
            view! {
                <tr>
                    <td><a class="strong" href=href>{format!("v{}", version.version)}</a></td>
                    <td>{aliases}</td>
                    <td>{run}</td>
                    <td>{version.user.clone()}</td>
                    <td>{format_time(version.created_at_ms)}</td>
                    <td class="num">{production}</td>
                </tr>
            }
        })
        .collect_view();
    let version_options = model
        .versions
        .iter()
        .map(|version| view! { <option value=version.version.to_string()>{format!("v{}", version.version)}</option> })
        .collect_view();
    let version_options_again = model
        .versions
        .iter()
        .map(|version| view! { <option value=version.version.to_string()>{format!("v{}", version.version)}</option> })
        .collect_view();
    let (pending, past): (Vec<RequestView>, Vec<RequestView>) = model.requests.into_iter().partition(|item| item.request.status == "pending");
    let pending_empty = pending.is_empty().then(|| view! { <p class="muted" data-testid="no-pending">"No pending requests."</p> });
    let pending = pending.into_iter().map(|item| view_request(&slug, &name, item)).collect_view();
    let past = past.into_iter().map(|item| view_request(&slug, &name, item)).collect_view();
    let request_form = (model.can_request && !model.versions.is_empty()).then(|| view! {
        <section class="card">
            <h2>"Request a promotion"</h2>
            <form method="post" action=format!("/w/{slug}/registry/{encoded}/requests") class="grid-form" data-testid="request-form">
                <CsrfField/>
                <label>"Alias" <input name="alias" required value="production" pattern="[A-Za-z0-9_-]+"/></label>
                <label>"Version" <select name="version">{version_options}</select></label>
                <label class="wide">"Why this version (shown to approvers)" <textarea name="comment" rows="2"></textarea></label>
                <button type="submit">"Request promotion"</button>
            </form>
        </section>
    });
    let direct_form = (model.can_change_directly && !model.versions.is_empty()).then(|| view! {
        <details class="card">
            <summary>"Move an alias directly"</summary>
            <p class="muted small">"Your role may move aliases without approval; the change is recorded in the history."</p>
            <form method="post" action=format!("/w/{slug}/registry/{encoded}/aliases") class="row-form">
                <CsrfField/>
                <label>"Alias" <input name="alias" required pattern="[A-Za-z0-9_-]+"/></label>
                <label>"Version" <select name="version">{version_options_again}</select></label>
                <label>"Reason" <input name="comment"/></label>
                <button type="submit">"Move alias"</button>
            </form>
        </details>
    });
    let policy = model.policy.clone();
    let policy_source = if model.own_policy { "this model's policy" } else { "the workspace's default policy" };
    let policy_form = model
        .can_administer
        .then(|| policy_form(format!("/w/{slug}/registry/{encoded}/policy"), "Change this model's promotion policy", &policy));
    let monitoring = model.monitored.then(|| view! {
        <a href=format!("/w/{slug}/models/{encoded}")>"Production monitoring for this model →"</a>
    });

    view! {
        <Title text=format!("{name} · Registry · Orrery")/>
        <nav class="crumbs"><a href=format!("/w/{slug}/registry")>"Model registry"</a>" / "<span>{name.clone()}</span></nav>
        <div class="page-head">
            <h1>{name.clone()}</h1>
            <span data-testid="aliases">{alias_badges(&model.aliases)}</span>
        </div>
        <p class="muted">{model.description.clone()}" "{monitoring}</p>
        <FormError/>
        <Notice/>
        <section>
            <h2>"Pending promotion requests"</h2>
            {pending_empty}
            {pending}
        </section>
        {request_form}
        <section class="card">
            <h2>"Versions"</h2>
            <table class="data" data-testid="versions">
                <thead><tr><th>"Version"</th><th>"Aliases"</th><th>"Source run"</th><th>"Registered by"</th><th>"Created"</th><th>"Production rows"</th></tr></thead>
                <tbody>{versions}</tbody>
            </table>
        </section>
        <section class="card">
            <h2>"Alias timeline"</h2>
            <p class="muted small">"Which version held each alias, and when."</p>
            {view_timeline(&model.timeline)}
        </section>
        <section class="card">
            <h2>"Promotion policy"</h2>
            <p class="muted small">{format!("From {policy_source}.")}</p>
            {policy_summary(&policy)}
        </section>
        {policy_form}
        {direct_form}
        <section class="card">
            <h2>"Past requests"</h2>
            {past}
        </section>
        <section class="card">
            <h2>"History"</h2>
            {view_history(&model.history)}
        </section>
    }
}

/// Lists a policy's rules in sentences.
fn policy_summary(policy: &PolicyInfo) -> impl IntoView {
    let approvals = if policy.required_approvals == 1 { "1 approval".to_string() } else { format!("{} approvals", policy.required_approvals) };
    let gates = if policy.metric_gates.is_empty() { "none".to_string() } else { policy.metric_gates.join(", ") };
    let direct = if policy.direct_change_roles.is_empty() { "nobody".to_string() } else { policy.direct_change_roles.join(", ") };
    view! {
        <ul class="policy" data-testid="policy">
            <li>{format!("{approvals} needed, from: {}", policy.approver_roles.join(", "))}</li>
            <li>{if policy.allow_self_approval { "Requesters may approve their own requests" } else { "Requesters may not approve their own requests" }}</li>
            <li>{format!("Direct alias changes: {direct}")}</li>
            <li>{format!("Metric gates: {gates}")}</li>
            <li>{if policy.require_no_drift { "Validation data must not drift from training data" } else { "No drift gate" }}</li>
        </ul>
    }
}

/// Renders the policy editor that posts to `action`.
fn policy_form(action: String, title: &'static str, policy: &PolicyInfo) -> impl IntoView {
    view! {
        <details class="card">
            <summary>{title}</summary>
            <form method="post" action=action class="grid-form" data-testid="policy-form">
                <CsrfField/>
                <label>"Approvals needed" <input name="required_approvals" type="number" min="1" max="20" value=policy.required_approvals.to_string()/></label>
                <label>"Roles that may approve" <input name="approver_roles" value=policy.approver_roles.join(", ")/></label>
                <label>"Roles that may move aliases directly" <input name="direct_change_roles" value=policy.direct_change_roles.join(", ")/></label>
                <label class="check"><input type="checkbox" name="allow_self_approval" value="on" checked=policy.allow_self_approval/>" Requesters may approve their own requests"</label>
                <label class="check"><input type="checkbox" name="require_no_drift" value="on" checked=policy.require_no_drift/>" Reject when validation data drifts from training data"</label>
                <label class="wide">"Metric gates on the source run, one per line (for example rmse < 0.8)"
                    <textarea name="metric_gates" rows="3">{policy.metric_gates.join("\n")}</textarea>
                </label>
                <button type="submit">"Save policy"</button>
            </form>
        </details>
    }
}

fn view_default_policy(slug: &str, registry: &RegistryView) -> impl IntoView {
    let form = registry
        .can_administer
        .then(|| policy_form(format!("/w/{slug}/registry-policy"), "Change the default policy", &registry.default_policy));
    view! {
        <section class="card">
            <h2>"Default promotion policy"</h2>
            <p class="muted small">"Applies to every model without a policy of its own."</p>
            {policy_summary(&registry.default_policy)}
        </section>
        {form}
    }
}

#[component]
pub fn RegistryVersionPage() -> impl IntoView {
    let workspace = param("workspace");
    let model = param("model");
    let version = param("version");
    let view = Resource::new(move || (workspace(), model(), version()), |(workspace, model, version)| {
        get_registry_version(workspace, model, version.trim_start_matches('v').parse().unwrap_or(0))
    });
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let slug = workspace();
                match view.await {
                    Ok(version) => view_version(slug, version).into_any(),
                    Err(error) => view! {
                        <h1>"Model version"</h1>
                        <LoadError error back=format!("/w/{slug}/registry/{}", percent_encode(&model()))/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn view_version(slug: String, view: RegistryVersionView) -> impl IntoView {
    let encoded = percent_encode(&view.model);
    let version = view.version.clone();
    let run = match (&view.run, &view.project) {
        (Some(run), project) => {
            let project_link = project.as_ref().map(|project| view! {
                " in project "<a href=format!("/w/{slug}/projects/{}", project.id)>{project.name.clone()}</a>
            });
            let metrics = run
                .metrics
                .iter()
                .map(|(key, value)| format!("{key} = {}", format_stat(value.0)))
                .collect::<Vec<_>>()
                .join(", ");
            view! {
                <p>"Run "<a href=format!("/w/{slug}/runs/{}", run.run_id) data-testid="lineage-run">{run.name.clone()}</a>{project_link}</p>
                <p class="muted small">{metrics}</p>
            }
            .into_any()
        }
        _ => view! { <p class="muted">"No source run is recorded for this version."</p> }.into_any(),
    };
    let datasets = if view.inputs.is_empty() {
        view! { <p class="muted">"The source run logged no datasets."</p> }.into_any()
    } else {
        view.inputs
            .iter()
            .map(|input| {
                let context = if input.context.is_empty() { String::new() } else { format!(" ({})", input.context) };
                view! { <p><span class="strong">{input.name.clone()}</span>{context}" · digest "<code>{input.digest.clone()}</code>" · "{input.source.clone()}</p> }
            })
            .collect_view()
            .into_any()
    };
    let health = match &view.health {
        Some(health) => {
            let (class, text) = if health.compared_columns > 0 && health.drifted_columns * 2 >= health.compared_columns {
                ("badge drift", "Dataset drift")
            } else if health.drifted_columns > 0 {
                ("badge warn", "Some columns drift")
            } else {
                ("badge ok", "No drift")
            };
            view! {
                <p><span class=class data-testid="health">{text}</span>" "
                    {format!("{} of {} columns drift in {} production rows from {} to {}.", health.drifted_columns, health.compared_columns, format_count(health.current_rows), health.window_from, health.window_to)}
                </p>
                <p><a href=health.link.clone()>"Open the drift report →"</a></p>
            }
            .into_any()
        }
        None => view! {
            <p class="muted">{format!("No production data for version {} yet. Send inferences to the monitored model \"{}\" with version {} to watch it.", version.version, view.model, version.version)}</p>
        }
        .into_any(),
    };
    let aliases = version.aliases.iter().map(|alias| view! { <span class="badge alias">{format!("@{alias}")}</span> }).collect_view();
    view! {
        <Title text=format!("{} v{} · Registry · Orrery", view.model, version.version)/>
        <nav class="crumbs">
            <a href=format!("/w/{slug}/registry")>"Model registry"</a>" / "
            <a href=format!("/w/{slug}/registry/{encoded}")>{view.model.clone()}</a>" / "<span>{format!("v{}", version.version)}</span>
        </nav>
        <div class="page-head"><h1>{format!("{} version {}", view.model, version.version)}</h1>{aliases}</div>
        <p class="muted">{format!("Registered by {} on {} from {}", version.user, format_time(version.created_at_ms), version.source)}</p>
        <ol class="lineage" data-testid="lineage">
            <li class="card"><h2>"1. Training run"</h2>{run}</li>
            <li class="card"><h2>"2. Datasets"</h2>{datasets}</li>
            <li class="card"><h2>"3. Version"</h2>
                <p>{format!("v{}", version.version)}{view.logged_model.clone().map(|model| format!(" · logged model {model}"))}</p>
            </li>
            <li class="card"><h2>"4. Promotions"</h2>{view_history(&view.events)}</li>
            <li class="card"><h2>"5. Production health"</h2>{health}</li>
        </ol>
    }
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let workspace = param("workspace");
    let view = Resource::new(workspace, get_webhooks);
    view! {
        <Title text="Webhooks · Orrery"/>
        <div class="page-head"><h1>"Registry webhooks"</h1></div>
        <FormError/>
        <Notice/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                let slug = workspace();
                match view.await {
                    Ok(hooks) => view_webhooks(slug, hooks).into_any(),
                    Err(error) => view! { <LoadError error back=format!("/w/{slug}")/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn view_webhooks(slug: String, view: WebhooksView) -> impl IntoView {
    let hooks = if view.webhooks.is_empty() {
        view! { <p class="muted">"No webhooks yet."</p> }.into_any()
    } else {
        let rows = view
            .webhooks
            .iter()
            .map(|hook| view! {
                <tr>
                    <td class="wrap"><code>{hook.url.clone()}</code></td>
                    <td>{hook.events.replace(',', ", ")}</td>
                    <td>{format_time(hook.created_at_ms)}</td>
                    <td>
                        <form method="post" action=format!("/w/{slug}/webhooks/{}/delete", hook.id) class="inline">
                            <CsrfField/>
                            <button type="submit" class="link">"Delete"</button>
                        </form>
                    </td>
                </tr>
            })
            .collect_view();
        view! {
            <table class="data" data-testid="webhooks">
                <thead><tr><th>"URL"</th><th>"Events"</th><th>"Added"</th><th></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let deliveries = if view.deliveries.is_empty() {
        view! { <p class="muted">"Nothing delivered yet."</p> }.into_any()
    } else {
        let rows = view
            .deliveries
            .iter()
            .map(|delivery| {
                let class = match delivery.status.as_str() {
                    "delivered" => "badge ok",
                    "failed" => "badge drift",
                    _ => "badge warn",
                };
                let result = match (delivery.last_status_code, delivery.last_error.is_empty()) {
                    (Some(code), true) => format!("HTTP {code}"),
                    (_, false) => delivery.last_error.clone(),
                    (None, true) => "not sent yet".into(),
                };
                let next = (delivery.status == "pending" && delivery.attempts > 0).then(|| format!(" · next attempt {}", format_time(delivery.next_attempt_at_ms)));
                view! {
                    <tr>
                        <td>{format_time(delivery.created_at_ms)}</td>
                        <td><code>{delivery.event.clone()}</code></td>
                        <td class="wrap">{delivery.url.clone()}</td>
                        <td><span class=class>{delivery.status.clone()}</span></td>
                        <td class="num">{delivery.attempts}</td>
                        <td class="wrap">{result}{next}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="data compact" data-testid="deliveries">
                <thead><tr><th>"Created"</th><th>"Event"</th><th>"URL"</th><th>"Status"</th><th>"Attempts"</th><th>"Last result"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    let events = view.events.join(", ");
    view! {
        <p class="muted">
            "Orrery posts a JSON event to each URL when registry events happen, signed in the "
            <code>"X-Orrery-Signature-256"</code>" header: "<code>"sha256="</code>" and the hex HMAC-SHA256 of the body with the webhook's secret. "
            "Failed deliveries are retried with growing delays, eight attempts in all."
        </p>
        {hooks}
        <section class="card">
            <h2>"Add a webhook"</h2>
            <form method="post" action=format!("/w/{slug}/webhooks") class="grid-form" data-testid="webhook-form">
                <CsrfField/>
                <label class="wide">"URL" <input name="url" type="url" required placeholder="https://ci.example.com/hooks/orrery"/></label>
                <label>"Secret (16 characters or more)" <input name="secret" required minlength="16"/></label>
                <label>"Events (blank for all)" <input name="events" placeholder=events.clone()/></label>
                <button type="submit">"Add webhook"</button>
            </form>
        </section>
        <section class="card">
            <h2>"Delivery log"</h2>
            {deliveries}
        </section>
    }
}
