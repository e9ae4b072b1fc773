//! One module per page, each with the server functions that feed it.

pub mod account;
pub mod auth;
pub mod drift;
pub mod experiments;
pub mod feature;
pub mod not_found;
pub mod overview;
pub mod performance;
pub mod quality;
pub mod registry;
pub mod segments;
pub mod versions;
pub mod workspace;
