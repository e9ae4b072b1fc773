//! The Leptos application: the HTML shell, the header, and the route table.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::header::Header;
use crate::pages::account::{get_viewer, TokensPage};
use crate::pages::auth::{LoginPage, SetupPage};
use crate::pages::drift::DriftPage;
use crate::pages::feature::FeaturePage;
use crate::pages::not_found::NotFound;
use crate::pages::workspace::{WorkspacePage, WorkspaceSettingsPage, WorkspacesPage};
use crate::types::Viewer;

/// The document around every page, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/public/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The signed-in user, loaded once per page and shared through context.
pub type ViewerResource = Resource<Result<Option<Viewer>, ServerFnError>>;

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let viewer: ViewerResource = Resource::new(|| (), |_| get_viewer());
    provide_context(viewer);

    view! {
        <Stylesheet id="orrery" href="/pkg/orrery.css"/>
        <Title text="Orrery"/>
        <Router>
            <Header/>
            <main class="page">
                <Routes fallback=NotFound>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/setup") view=SetupPage/>
                    <Route path=path!("/workspaces") view=WorkspacesPage/>
                    <Route path=path!("/account/tokens") view=TokensPage/>
                    <Route path=path!("/w/:workspace") view=WorkspacePage/>
                    <Route path=path!("/w/:workspace/settings") view=WorkspaceSettingsPage/>
                    <Route path=path!("/w/:workspace/models/:model") view=DriftPage/>
                    <Route
                        path=path!("/w/:workspace/models/:model/features/:feature")
                        view=FeaturePage
                    />
                </Routes>
            </main>
        </Router>
    }
}
