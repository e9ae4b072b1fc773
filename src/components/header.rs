//! The top bar: product name, workspace switcher, account links and logout.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::CsrfField;
use crate::app::CurrentViewer;

#[component]
pub fn Header() -> impl IntoView {
    let viewer = use_context::<CurrentViewer>().and_then(|viewer| viewer.0);
    let location = use_location();
    let current_slug = move || {
        let path = location.pathname.get();
        let mut parts = path.trim_start_matches('/').split('/');
        match (parts.next(), parts.next()) {
            (Some("w"), Some(slug)) => Some(slug.to_string()),
            _ => None,
        }
    };

    view! {
        <header class="topbar">
            <a class="brand" href="/">"Orrery"</a>
            {move || {
                    let viewer = viewer.clone()?;
                    let slug = current_slug();
                    let current = viewer
                        .workspaces
                        .iter()
                        .find(|workspace| Some(&workspace.slug) == slug.as_ref())
                        .map(|workspace| workspace.name.clone())
                        .unwrap_or_else(|| "Workspaces".to_string());
                    let items = viewer
                        .workspaces
                        .iter()
                        .map(|workspace| {
                            let href = format!("/w/{}", workspace.slug);
                            let role = workspace.role.as_str();
                            view! {
                                <li>
                                    <a href=href>{workspace.name.clone()}</a>
                                    <span class="muted">" · " {role}</span>
                                </li>
                            }
                        })
                        .collect_view();
                    Some(view! {
                        <details class="switcher">
                            <summary data-testid="workspace-switcher">{current}</summary>
                            <ul>
                                {items}
                                <li class="switcher-all">
                                    <a href="/workspaces">"All workspaces…"</a>
                                </li>
                            </ul>
                        </details>
                        <nav class="account">
                            {slug.map(|slug| view! {
                                <a href=format!("/w/{slug}")>"Monitoring"</a>
                                <a href=format!("/w/{slug}/projects")>"Experiments"</a>
                                <a href=format!("/w/{slug}/registry")>"Registry"</a>
                                <a href=format!("/w/{slug}/settings")>"Members"</a>
                            })}
                            <a href="/account/tokens">"API tokens"</a>
                            <span class="muted">{viewer.username.clone()}</span>
                            <form method="post" action="/logout" class="inline">
                                <CsrfField/>
                                <button type="submit" class="link">"Log out"</button>
                            </form>
                        </nav>
                    })
            }}
        </header>
    }
}
