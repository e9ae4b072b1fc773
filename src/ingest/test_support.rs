//! Helpers shared by the ingestion tests.

use std::path::{Path, PathBuf};

/// Finds a file in the repository's `demo-data` folder by walking up from this source file.
///
/// `file!()` is relative to the package root when this crate builds the module and absolute when
/// another crate includes it by `#[path]`, so the walk works for both.
#[allow(
    clippy::join_absolute_paths,
    reason = "an absolute file!() path is meant to replace the base"
)]
pub fn demo_data_path(file_name: &str) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(file!());
    for folder in source.ancestors().skip(1) {
        let candidate = folder.join("demo-data").join(file_name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!("demo-data/{file_name} not found above {}", source.display());
}

/// Reads a demo file into memory, as the demo does with files embedded in the binary.
pub fn demo_data_bytes(file_name: &str) -> bytes::Bytes {
    let path = demo_data_path(file_name);
    let data =
        std::fs::read(&path).unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    bytes::Bytes::from(data)
}
