//! The Leptos application: the HTML shell, the header, and the route table.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::components::header::Header;
use crate::pages::account::TokensPage;
use crate::pages::auth::{LoginPage, SetupPage};
use crate::pages::drift::DriftPage;
use crate::pages::overview::OverviewPage;
use crate::pages::experiments::{ComparePage, ProjectsPage, RunPage, RunsPage};
use crate::pages::registry::{RegisteredModelPage, RegistryPage, RegistryVersionPage, WebhooksPage};
use crate::pages::feature::FeaturePage;
use crate::pages::not_found::NotFound;
use crate::pages::performance::PerformancePage;
use crate::pages::segments::SegmentsPage;
use crate::pages::versions::VersionsPage;
use crate::pages::quality::QualityPage;
use crate::pages::workspace::{WorkspacePage, WorkspaceSettingsPage, WorkspacesPage};
use crate::types::Viewer;

/// Renders the document around every page on the server.
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

/// The signed-in user, or `None` for a visitor, shared through context.
///
/// It is computed by the server's request middleware and sent to the browser inside the page
/// (a `SharedValue`), so components read it synchronously: no `<Suspense/>` sits outside the
/// routes, which Leptos 0.8 cannot hydrate.
#[derive(Clone, Debug)]
pub struct CurrentViewer(pub Option<Viewer>);

/// Reads the viewer from the request on the server; the browser gets the serialized copy.
fn viewer_from_request() -> Option<Viewer> {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Viewer>().cloned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// Every route renders in async mode: the server waits for all data before sending the page,
/// so the HTML is complete and a handler can still set the status code.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let viewer = SharedValue::new(viewer_from_request).into_inner();
    provide_context(CurrentViewer(viewer));

    view! {
        <Stylesheet id="orrery" href="/pkg/orrery.css"/>
        <Title text="Orrery"/>
        <Router>
            <Header/>
            <main class="page">
                <Routes fallback=NotFound>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/setup") view=SetupPage ssr=SsrMode::Async/>
                    <Route path=path!("/workspaces") view=WorkspacesPage ssr=SsrMode::Async/>
                    <Route path=path!("/account/tokens") view=TokensPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace") view=WorkspacePage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/settings") view=WorkspaceSettingsPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/models/:model") view=DriftPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/models/:model/overview") view=OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/models/:model/quality") view=QualityPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/models/:model/performance") view=PerformancePage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/models/:model/segments") view=SegmentsPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/models/:model/versions") view=VersionsPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/projects") view=ProjectsPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/projects/:project") view=RunsPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/projects/:project/compare") view=ComparePage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/runs/:run") view=RunPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/registry") view=RegistryPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/registry/:model") view=RegisteredModelPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/registry/:model/versions/:version") view=RegistryVersionPage ssr=SsrMode::Async/>
                    <Route path=path!("/w/:workspace/webhooks") view=WebhooksPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/w/:workspace/models/:model/features/:feature")
                        view=FeaturePage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}
