use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(axum::http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <section class="message-page">
            <h1>"Not found"</h1>
            <p>"There is nothing at this address."</p>
            <p><a href="/">"Go to your workspace"</a></p>
        </section>
    }
}
