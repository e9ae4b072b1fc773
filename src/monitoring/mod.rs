//! Production monitoring: model schemas, drift statistics, stored summaries and charts.

pub mod schema;

#[cfg(feature = "ssr")]
pub mod actuals;
#[cfg(feature = "ssr")]
pub mod breakdown;
#[cfg(feature = "ssr")]
pub mod charts;
#[cfg(feature = "ssr")]
pub mod drift;
#[cfg(feature = "ssr")]
pub mod ingestion;
#[cfg(feature = "ssr")]
pub mod performance;
#[cfg(feature = "ssr")]
pub mod quality;
#[cfg(feature = "ssr")]
pub mod segment;
#[cfg(feature = "ssr")]
pub mod stats;
#[cfg(feature = "ssr")]
pub mod summary;
#[cfg(feature = "ssr")]
pub mod versions;
