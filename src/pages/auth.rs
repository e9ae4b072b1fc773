//! The login page and the first-run page that creates the administrator.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::components::{CsrfField, FormError};

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".to_string());

    view! {
        <Title text="Log in · Orrery"/>
        <section class="auth-card card">
            <h1>"Log in to Orrery"</h1>
            <FormError/>
            <form method="post" action="/login" class="stack-form">
                <CsrfField/>
                <input type="hidden" name="next" value=next/>
                <label>"Username" <input name="username" autocomplete="username" required autofocus/></label>
                <label>"Password" <input name="password" type="password" autocomplete="current-password" required/></label>
                <button type="submit">"Log in"</button>
            </form>
        </section>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    view! {
        <Title text="Set up · Orrery"/>
        <section class="auth-card card">
            <h1>"Welcome to Orrery"</h1>
            <p>"Create the administrator account and a first workspace for your team."</p>
            <FormError/>
            <form method="post" action="/setup" class="stack-form">
                <label>"Username" <input name="username" autocomplete="username" required placeholder="admin"/></label>
                <label>"Password" <input name="password" type="password" autocomplete="new-password" required minlength="8"/></label>
                <label>"Workspace name" <input name="workspace" required placeholder="ML Platform"/></label>
                <button type="submit">"Create administrator"</button>
            </form>
        </section>
    }
}
