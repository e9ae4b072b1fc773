//! Artifact storage behind an interface, so an S3-compatible store can be added beside the
//! local one. Bodies stream both ways: a multi-gigabyte file never sits in memory.

use std::io;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send>>;

/// One entry of a directory listing, relative to the listed directory's store path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactEntry {
    pub path: String,
    pub is_dir: bool,
    pub size: Option<u64>,
}

#[async_trait::async_trait]
pub trait ArtifactStore: Send + Sync + std::fmt::Debug {
    /// Stores `body` at `path`; readers see the whole file or nothing.
    async fn put(&self, path: &str, body: ByteStream) -> io::Result<u64>;
    /// Opens `path` for reading, with its size; `None` when it does not exist.
    async fn get(&self, path: &str) -> io::Result<Option<(u64, ByteStream)>>;
    /// Lists the direct children of the directory `path` (empty when it does not exist).
    async fn list(&self, path: &str) -> io::Result<Vec<ArtifactEntry>>;
    /// Deletes the file or directory at `path`.
    async fn delete(&self, path: &str) -> io::Result<()>;
}

/// Checks a store path: relative, with no empty, `.` or `..` parts.
pub fn check_path(path: &str) -> Result<(), String> {
    if path.starts_with('/') || path.contains('\\') || path.contains('\0') {
        return Err(format!("artifact path \"{path}\" must be relative and use '/' between parts"));
    }
    for part in path.split('/') {
        if part == ".." || part == "." {
            return Err(format!("artifact path \"{path}\" must not contain '.' or '..' parts"));
        }
    }
    Ok(())
}

/// Files under one folder, normally `<data dir>/artifacts`.
#[derive(Clone, Debug)]
pub struct LocalArtifactStore {
    root: PathBuf,
}

impl LocalArtifactStore {
    pub fn new(root: impl Into<PathBuf>) -> LocalArtifactStore {
        LocalArtifactStore { root: root.into() }
    }

    fn resolve(&self, path: &str) -> io::Result<PathBuf> {
        check_path(path).map_err(|message| io::Error::new(io::ErrorKind::InvalidInput, message))?;
        let relative = Path::new(path.trim_matches('/'));
        if relative.components().any(|part| !matches!(part, Component::Normal(_))) && !path.trim_matches('/').is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("artifact path \"{path}\" is not a plain relative path")));
        }
        Ok(self.root.join(relative))
    }
}

#[async_trait::async_trait]
impl ArtifactStore for LocalArtifactStore {
    async fn put(&self, path: &str, mut body: ByteStream) -> io::Result<u64> {
        let target = self.resolve(path)?;
        let parent = target.parent().ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty artifact path"))?;
        tokio::fs::create_dir_all(parent).await?;
        // Write beside the target, then rename: a reader never sees half a file.
        let temporary = parent.join(format!(".upload-{}", crate::tracking::new_uuid()));
        let mut file = tokio::fs::File::create(&temporary).await?;
        let mut written = 0u64;
        let result: io::Result<()> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                written += chunk.len() as u64;
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            file.sync_all().await?;
            Ok(())
        }
        .await;
        drop(file);
        if let Err(error) = result {
            let _ = tokio::fs::remove_file(&temporary).await;
            return Err(error);
        }
        tokio::fs::rename(&temporary, &target).await?;
        Ok(written)
    }

    async fn get(&self, path: &str) -> io::Result<Option<(u64, ByteStream)>> {
        let target = self.resolve(path)?;
        match tokio::fs::metadata(&target).await {
            Ok(metadata) if metadata.is_file() => {
                let file = tokio::fs::File::open(&target).await?;
                let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
                Ok(Some((metadata.len(), Box::pin(stream))))
            }
            Ok(_) => Ok(None),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn list(&self, path: &str) -> io::Result<Vec<ArtifactEntry>> {
        let target = self.resolve(path)?;
        let mut entries = Vec::new();
        let mut reader = match tokio::fs::read_dir(&target).await {
            Ok(reader) => reader,
            Err(error) if matches!(error.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory) => return Ok(entries),
            Err(error) => return Err(error),
        };
        while let Some(entry) = reader.next_entry().await? {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with(".upload-") {
                continue;
            }
            let metadata = entry.metadata().await?;
            entries.push(ArtifactEntry {
                path: name,
                is_dir: metadata.is_dir(),
                size: if metadata.is_dir() { None } else { Some(metadata.len()) },
            });
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entries)
    }

    async fn delete(&self, path: &str) -> io::Result<()> {
        let target = self.resolve(path)?;
        match tokio::fs::metadata(&target).await {
            Ok(metadata) if metadata.is_dir() => tokio::fs::remove_dir_all(&target).await,
            Ok(_) => tokio::fs::remove_file(&target).await,
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(parts: &[&'static [u8]]) -> ByteStream {
        let chunks: Vec<Result<Bytes, io::Error>> = parts.iter().map(|part| Ok(Bytes::from_static(part))).collect();
        Box::pin(futures::stream::iter(chunks))
    }

    #[tokio::test]
    async fn stores_lists_reads_and_deletes() {
        let folder = tempfile::tempdir().unwrap();
        let store = LocalArtifactStore::new(folder.path());
        assert_eq!(store.put("1/run/artifacts/model/weights.bin", body(&[b"abc", b"def"])).await.unwrap(), 6);
        store.put("1/run/artifacts/notes.txt", body(&[b"hello"])).await.unwrap();
        let listing = store.list("1/run/artifacts").await.unwrap();
        assert_eq!(
            listing,
            vec![
                ArtifactEntry { path: "model".into(), is_dir: true, size: None },
                ArtifactEntry { path: "notes.txt".into(), is_dir: false, size: Some(5) },
            ]
        );
        let (size, mut stream) = store.get("1/run/artifacts/model/weights.bin").await.unwrap().unwrap();
        let mut read = Vec::new();
        while let Some(chunk) = stream.next().await {
            read.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!((size, read.as_slice()), (6, b"abcdef".as_slice()));
        assert!(store.get("1/run/artifacts/missing").await.unwrap().is_none());
        store.delete("1/run/artifacts/model").await.unwrap();
        assert_eq!(store.list("1/run/artifacts").await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn refuses_paths_that_leave_the_root() {
        let folder = tempfile::tempdir().unwrap();
        let store = LocalArtifactStore::new(folder.path().join("store"));
        for path in ["../escape.txt", "1/../../escape.txt", "/etc/passwd", "a/./b"] {
            let error = store.put(path, body(&[b"x"])).await.unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{path}");
        }
        assert!(!folder.path().join("escape.txt").exists());
    }
}
