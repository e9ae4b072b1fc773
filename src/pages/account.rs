//! The signed-in user and their personal API tokens.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;

use crate::components::{format_time, CsrfField, FormError};
use crate::types::TokenInfo;

/// The user's tokens, and the secret of a token created just before, shown this once.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TokensView {
    pub tokens: Vec<TokenInfo>,
    pub new_secret: Option<String>,
}

#[server(input = GetUrl)]
pub async fn get_tokens() -> Result<TokensView, ServerFnError> {
    use crate::server::context::{current_user, state};
    let state = state()?;
    let user = current_user().await?;
    let session = leptos_axum::extract::<tower_sessions::Session>()
        .await
        .map_err(|_| ServerFnError::new("the session is unavailable"))?;
    let new_secret: Option<String> = session
        .remove(crate::server::forms::SESSION_NEW_TOKEN_KEY)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    let tokens = state.db.tokens_of(user.id).await.map_err(|e| ServerFnError::new(e.to_string()))?;
    Ok(TokensView { tokens, new_secret })
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let tokens = Resource::new(|| (), |_| get_tokens());
    let workspaces = use_context::<crate::app::CurrentViewer>()
        .and_then(|viewer| viewer.0)
        .map(|viewer| viewer.workspaces)
        .unwrap_or_default();
    let workspace_options = workspaces
        .into_iter()
        .map(|workspace| view! { <option value=workspace.slug.clone()>{format!("only {}", workspace.name)}</option> })
        .collect_view();

    view! {
        <Title text="API tokens · Orrery"/>
        <h1>"API tokens"</h1>
        <p class="lead">
            "Tokens let scripts, CI pipelines and the "<code>"orrery"</code>
            " command act as you. Send one as "<code>"Authorization: Bearer <token>"</code>
            ", or set it as "<code>"MLFLOW_TRACKING_TOKEN"</code>" for the MLflow client. A token limited to one workspace cannot see the others."
        </p>
        <FormError/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(view) => view_tokens(view).into_any(),
                    Err(error) => view! { <p class="form-error">{error.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
        <section class="card">
            <h2>"Create a token"</h2>
            <form method="post" action="/account/tokens" class="row-form">
                <CsrfField/>
                <label>"Name" <input name="name" required placeholder="ci-pipeline"/></label>
                <label>"Acts in"
                    <select name="workspace" data-testid="token-workspace">
                        <option value="">"all my workspaces"</option>
                        {workspace_options}
                    </select>
                </label>
                <button type="submit">"Create token"</button>
            </form>
        </section>
    }
}

fn view_tokens(view: TokensView) -> impl IntoView {
    let secret = view.new_secret.map(|secret| {
        view! {
            <div class="notice" data-testid="new-token">
                <p>"Copy this token now. It is shown only once:"</p>
                <code class="secret">{secret}</code>
            </div>
        }
    });
    let rows = view
        .tokens
        .into_iter()
        .map(|token| {
            let revoke = format!("/account/tokens/{}/revoke", token.id);
            let last_used = token.last_used_at_ms.map(format_time).unwrap_or_else(|| "never".into());
            view! {
                <tr>
                    <td>{token.name}</td>
                    <td><code>{token.prefix}"…"</code></td>
                    <td>{token.workspace.unwrap_or_else(|| "all".into())}</td>
                    <td>{format_time(token.created_at_ms)}</td>
                    <td>{last_used}</td>
                    <td>
                        <form method="post" action=revoke class="inline">
                            <CsrfField/>
                            <button type="submit" class="danger small">"Revoke"</button>
                        </form>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        {secret}
        <table class="data">
            <thead>
                <tr><th>"Name"</th><th>"Token"</th><th>"Workspace"</th><th>"Created"</th><th>"Last used"</th><th></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
