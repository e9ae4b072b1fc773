//! Artifact storage behind an interface, so an S3-compatible store can be added beside the
//! local one. Bodies stream both ways: a multi-gigabyte file never sits in memory.

use std::io;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
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

    /// Starts an upload of the file `path` in `parts` parts, numbered from 1, and returns the
    /// upload's id. Parts may arrive in any order and from several clients at once.
    async fn create_multipart(&self, path: &str, parts: u32) -> io::Result<String>;
    /// Returns an unfinished upload, or `None` when the id is unknown, completed or aborted.
    async fn multipart(&self, upload_id: &str) -> io::Result<Option<MultipartUpload>>;
    /// Stores one part and returns its ETag. Sending a part again replaces it.
    async fn put_part(&self, upload_id: &str, part_number: u32, body: ByteStream) -> io::Result<String>;
    /// Joins the listed parts, given as (part number, ETag) in ascending order, into the
    /// upload's file and ends the upload. Returns the file's size.
    async fn complete_multipart(&self, upload_id: &str, parts: &[(u32, String)]) -> io::Result<u64>;
    /// Ends an upload and deletes its parts.
    async fn abort_multipart(&self, upload_id: &str) -> io::Result<()>;
    /// Aborts uploads started more than `max_age` ago and returns how many there were.
    async fn abort_stale_multipart(&self, max_age: std::time::Duration) -> io::Result<usize>;
}

/// The maximum number of parts in one multipart upload, as in S3.
pub const MAX_UPLOAD_PARTS: u32 = 10_000;

/// A multipart upload that has not been completed or aborted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MultipartUpload {
    /// Store path of the file the parts make up.
    pub path: String,
    pub parts: u32,
    /// Unix milliseconds when the upload started.
    pub created_at: i64,
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

fn upload_not_found(upload_id: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("upload \"{upload_id}\" not found; it was completed, aborted or never started"))
}

/// Checks an upload id: 32 lowercase hexadecimal digits, as `new_uuid` makes them, so that it
/// is safe as a folder name.
fn check_upload_id(upload_id: &str) -> io::Result<()> {
    if upload_id.len() == 32 && upload_id.bytes().all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)) {
        Ok(())
    } else {
        Err(invalid(format!("upload id \"{upload_id}\" is not 32 lowercase hexadecimal digits; use the id that mpu/create returned")))
    }
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

/// Folder under the store's root that contains unfinished multipart uploads, one folder each.
/// Its name is not a number, so no experiment's paths reach it.
const MULTIPART_FOLDER: &str = ".multipart";

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

    fn upload_folder(&self, upload_id: &str) -> io::Result<PathBuf> {
        check_upload_id(upload_id)?;
        Ok(self.root.join(MULTIPART_FOLDER).join(upload_id))
    }

    /// Returns the file of a stored part. The ETag is part of the name, so a part sent again
    /// with other bytes gets a new file and completing picks the one whose ETag it lists.
    fn part_file(folder: &Path, part_number: u32, etag: &str) -> PathBuf {
        folder.join(format!("part-{part_number:05}-{etag}"))
    }

    async fn read_upload(&self, upload_id: &str) -> io::Result<Option<(PathBuf, MultipartUpload)>> {
        let folder = self.upload_folder(upload_id)?;
        match tokio::fs::read(folder.join("upload.json")).await {
            Ok(bytes) => {
                let upload = serde_json::from_slice(&bytes).map_err(io::Error::other)?;
                Ok(Some((folder, upload)))
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// Writes `body` to a new file at `target` through a temporary file beside it, so `target`
/// is either missing or complete. Returns the bytes written and their SHA-256.
async fn write_whole(target: &Path, mut body: ByteStream) -> io::Result<(u64, String)> {
    use sha2::Digest;
    let parent = target.parent().ok_or_else(|| invalid("empty artifact path".to_string()))?;
    tokio::fs::create_dir_all(parent).await?;
    let temporary = parent.join(format!(".upload-{}", crate::tracking::new_uuid()));
    let mut file = tokio::fs::File::create(&temporary).await?;
    let mut written = 0u64;
    let mut hasher = sha2::Sha256::new();
    let result: io::Result<()> = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            written += chunk.len() as u64;
            hasher.update(&chunk);
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
    tokio::fs::rename(&temporary, target).await?;
    Ok((written, hex::encode(hasher.finalize())))
}

#[async_trait::async_trait]
impl ArtifactStore for LocalArtifactStore {
    async fn put(&self, path: &str, body: ByteStream) -> io::Result<u64> {
        let target = self.resolve(path)?;
        Ok(write_whole(&target, body).await?.0)
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

    async fn create_multipart(&self, path: &str, parts: u32) -> io::Result<String> {
        self.resolve(path)?;
        if !(1..=MAX_UPLOAD_PARTS).contains(&parts) {
            return Err(invalid(format!("an upload has 1 to {MAX_UPLOAD_PARTS} parts, not {parts}")));
        }
        let upload_id = crate::tracking::new_uuid();
        let folder = self.upload_folder(&upload_id)?;
        tokio::fs::create_dir_all(&folder).await?;
        let upload = MultipartUpload { path: path.trim_matches('/').to_string(), parts, created_at: crate::db::now_ms() };
        let json = serde_json::to_vec(&upload).map_err(io::Error::other)?;
        write_whole(&folder.join("upload.json"), Box::pin(futures::stream::iter([Ok(Bytes::from(json))]))).await?;
        Ok(upload_id)
    }

    async fn multipart(&self, upload_id: &str) -> io::Result<Option<MultipartUpload>> {
        Ok(self.read_upload(upload_id).await?.map(|(_, upload)| upload))
    }

    async fn put_part(&self, upload_id: &str, part_number: u32, body: ByteStream) -> io::Result<String> {
        let (folder, upload) = self
            .read_upload(upload_id)
            .await?
            .ok_or_else(|| upload_not_found(upload_id))?;
        if !(1..=upload.parts).contains(&part_number) {
            return Err(invalid(format!("part number {part_number} is outside 1 to {} of upload \"{upload_id}\"", upload.parts)));
        }
        // The ETag is known only after the last byte, so the part goes to a temporary name
        // first and is renamed to its final name after.
        let receiving = folder.join(format!("receiving-{}", crate::tracking::new_uuid()));
        let (_, etag) = write_whole(&receiving, body).await?;
        tokio::fs::rename(&receiving, Self::part_file(&folder, part_number, &etag)).await?;
        Ok(etag)
    }

    async fn complete_multipart(&self, upload_id: &str, parts: &[(u32, String)]) -> io::Result<u64> {
        let (folder, upload) = self
            .read_upload(upload_id)
            .await?
            .ok_or_else(|| upload_not_found(upload_id))?;
        if parts.is_empty() {
            return Err(invalid("completing an upload needs at least one part".to_string()));
        }
        let mut files = Vec::with_capacity(parts.len());
        let mut previous = 0;
        for (part_number, etag) in parts {
            if *part_number <= previous {
                return Err(invalid(format!("parts must be listed in ascending order without repeats; part {part_number} follows part {previous}")));
            }
            previous = *part_number;
            let etag = etag.trim_matches('"');
            if etag.is_empty() || !etag.bytes().all(|byte| byte.is_ascii_hexdigit()) {
                return Err(invalid(format!("part {part_number} has the ETag \"{etag}\"; list the ETag the part upload returned")));
            }
            let file = Self::part_file(&folder, *part_number, etag);
            if !tokio::fs::try_exists(&file).await? {
                return Err(invalid(format!(
                    "part {part_number} with ETag \"{etag}\" was not uploaded to upload \"{upload_id}\"; upload it, then complete again"
                )));
            }
            files.push(file);
        }
        let joined = futures::stream::iter(files)
            .then(|file| async move { tokio::fs::File::open(file).await })
            .map_ok(|file| tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024))
            .try_flatten();
        let size = self.put(&upload.path, Box::pin(joined)).await?;
        tokio::fs::remove_dir_all(&folder).await?;
        Ok(size)
    }

    async fn abort_multipart(&self, upload_id: &str) -> io::Result<()> {
        let folder = self.upload_folder(upload_id)?;
        match tokio::fs::remove_dir_all(&folder).await {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    async fn abort_stale_multipart(&self, max_age: std::time::Duration) -> io::Result<usize> {
        let cutoff = crate::db::now_ms() - i64::try_from(max_age.as_millis()).unwrap_or(i64::MAX);
        let mut reader = match tokio::fs::read_dir(self.root.join(MULTIPART_FOLDER)).await {
            Ok(reader) => reader,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(error) => return Err(error),
        };
        let mut aborted = 0;
        while let Some(entry) = reader.next_entry().await? {
            let upload_id = entry.file_name().to_string_lossy().to_string();
            if check_upload_id(&upload_id).is_err() {
                continue;
            }
            // An upload folder without upload.json is one whose creation failed halfway.
            let started = match self.read_upload(&upload_id).await? {
                Some((_, upload)) => upload.created_at,
                None => 0,
            };
            if started < cutoff {
                self.abort_multipart(&upload_id).await?;
                aborted += 1;
            }
        }
        Ok(aborted)
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

    async fn read_all(store: &LocalArtifactStore, path: &str) -> Vec<u8> {
        let (_, mut stream) = store.get(path).await.unwrap().expect("the file exists");
        let mut read = Vec::new();
        while let Some(chunk) = stream.next().await {
            read.extend_from_slice(&chunk.unwrap());
        }
        read
    }

    #[tokio::test]
    async fn multipart_upload_joins_parts_in_order() {
        let folder = tempfile::tempdir().unwrap();
        let store = LocalArtifactStore::new(folder.path());
        let upload_id = store.create_multipart("1/run/artifacts/big.bin", 3).await.unwrap();
        let upload = store.multipart(&upload_id).await.unwrap().unwrap();
        assert_eq!((upload.path.as_str(), upload.parts), ("1/run/artifacts/big.bin", 3));

        // Parts arrive out of order, and part 2 is sent twice with different bytes.
        let third = store.put_part(&upload_id, 3, body(&[b"ghi"])).await.unwrap();
        let stale_second = store.put_part(&upload_id, 2, body(&[b"xxx"])).await.unwrap();
        let second = store.put_part(&upload_id, 2, body(&[b"d", b"ef"])).await.unwrap();
        let first = store.put_part(&upload_id, 1, body(&[b"abc"])).await.unwrap();
        assert_ne!(second, stale_second);
        // SHA-256 of "abc", from FIPS 180-2's first example.
        assert_eq!(first, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(store.get("1/run/artifacts/big.bin").await.unwrap().is_none(), "nothing is visible before completion");

        let size = store
            .complete_multipart(&upload_id, &[(1, first), (2, format!("\"{second}\"")), (3, third)])
            .await
            .unwrap();

        assert_eq!(size, 9);
        assert_eq!(read_all(&store, "1/run/artifacts/big.bin").await, b"abcdefghi");
        assert!(store.multipart(&upload_id).await.unwrap().is_none(), "a completed upload ends");
        assert!(!folder.path().join(MULTIPART_FOLDER).join(&upload_id).exists());
    }

    #[tokio::test]
    async fn multipart_upload_rejects_bad_parts() {
        let folder = tempfile::tempdir().unwrap();
        let store = LocalArtifactStore::new(folder.path());
        let upload_id = store.create_multipart("1/run/artifacts/f.bin", 2).await.unwrap();
        let first = store.put_part(&upload_id, 1, body(&[b"abc"])).await.unwrap();

        let outside = store.put_part(&upload_id, 3, body(&[b"x"])).await.unwrap_err();
        assert!(outside.to_string().contains("outside 1 to 2"), "{outside}");
        let missing = store.complete_multipart(&upload_id, &[(1, first.clone()), (2, "ab12".into())]).await.unwrap_err();
        assert!(missing.to_string().contains("part 2"), "{missing}");
        let unordered = store.complete_multipart(&upload_id, &[(1, first.clone()), (1, first.clone())]).await.unwrap_err();
        assert!(unordered.to_string().contains("ascending"), "{unordered}");
        let bad_id = store.put_part("../../etc", 1, body(&[b"x"])).await.unwrap_err();
        assert_eq!(bad_id.kind(), io::ErrorKind::InvalidInput);
        assert!(store.create_multipart("1/run/artifacts/g.bin", 0).await.is_err());
        assert!(store.create_multipart("1/run/artifacts/g.bin", MAX_UPLOAD_PARTS + 1).await.is_err());

        store.abort_multipart(&upload_id).await.unwrap();
        let after_abort = store.put_part(&upload_id, 2, body(&[b"x"])).await.unwrap_err();
        assert_eq!(after_abort.kind(), io::ErrorKind::NotFound);
        assert!(store.get("1/run/artifacts/f.bin").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn stale_multipart_uploads_are_aborted() {
        let folder = tempfile::tempdir().unwrap();
        let store = LocalArtifactStore::new(folder.path());
        let old = store.create_multipart("1/run/artifacts/old.bin", 1).await.unwrap();
        store.put_part(&old, 1, body(&[b"x"])).await.unwrap();

        assert_eq!(store.abort_stale_multipart(std::time::Duration::from_secs(3600)).await.unwrap(), 0);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let fresh = store.create_multipart("1/run/artifacts/new.bin", 1).await.unwrap();
        assert_eq!(store.abort_stale_multipart(std::time::Duration::from_millis(10)).await.unwrap(), 1);

        assert!(store.multipart(&old).await.unwrap().is_none());
        assert!(store.multipart(&fresh).await.unwrap().is_some());
    }
}
