//! Orrery: a self-hosted ML metadata store and production-model monitor.
//!
//! The same crate builds the server (feature `ssr`) and the browser bundle that hydrates its
//! pages (feature `hydrate`). Server-only modules sit behind `ssr` here, at the module edge.

#![recursion_limit = "256"]

pub mod app;
pub mod components;
pub mod monitoring;
pub mod pages;
pub mod types;
pub mod url;

#[cfg(feature = "ssr")]
pub mod accounts;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod demo;
#[cfg(feature = "ssr")]
pub mod ingest;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod tracking;

/// Entry point of the browser bundle: attaches event handlers to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // Lets tests and scripts wait until event handlers are attached.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
