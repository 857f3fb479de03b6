//! Where media bytes live: a directory under Crier's data directory by default, or any
//! S3-compatible bucket (AWS S3, MinIO, R2, Garage) so that web and worker processes on different
//! machines share one library.
//!
//! Both are reached through `object_store`, and every transfer streams: a file is written in
//! chunks of [`CHUNK_BYTES`] (an S3 multipart upload, or a staged file renamed into place) and read
//! back as a stream or by byte range, so a 500 MB video is never held in memory by the web process
//! that receives it or the worker that publishes it.
//!
//! Keys are made here and nowhere else ([`MediaKey`]): `teams/<team>/media/<item>` for the bytes
//! that are published, `…/<item>.thumbnail.jpg` for the library's thumbnail, and
//! `uploads/<team>/<upload>/<index>` for the chunks of a resumable upload until it completes.
//! Nothing a person typed (a file name) ever becomes part of a key.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use secrecy::{ExposeSecret, SecretString};
use tokio::io::AsyncReadExt;
use uuid::Uuid;

/// The size of each chunk written: S3's smallest multipart part is 5 MiB, and two chunks in flight
/// keep a transfer's memory near 16 MiB whatever the file's size.
pub const CHUNK_BYTES: usize = 8 * 1024 * 1024;
/// Chunks uploaded at once.
const CONCURRENT_CHUNKS: usize = 2;

/// Where the media store is, as `CRIER_MEDIA_STORE` gives it.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A directory on this machine (created if missing).
    Directory(PathBuf),
    /// A bucket, and a prefix inside it (may be empty).
    S3 {
        /// The bucket's name.
        bucket: String,
        /// Keys are written under this prefix (no leading or trailing slash).
        prefix: String,
        /// How to reach it; anything not set comes from the usual `AWS_*` environment
        /// variables (and instance or web-identity credentials where those are configured).
        settings: S3Settings,
    },
}

/// How to reach an S3-compatible store. Every field is optional: unset, the AWS SDK's usual
/// environment variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_ALLOW_HTTP`) decide.
#[derive(Clone, Default)]
pub struct S3Settings {
    /// The endpoint of a store that is not AWS (`http://127.0.0.1:9000`, an R2 account URL).
    pub endpoint: Option<String>,
    /// The region (`us-east-1`; `auto` for R2).
    pub region: Option<String>,
    /// The access key's id.
    pub access_key_id: Option<String>,
    /// The secret access key.
    pub secret_access_key: Option<SecretString>,
    /// Allow a plain-http endpoint (a local MinIO or test server).
    pub allow_http: bool,
}

impl PartialEq for S3Settings {
    fn eq(&self, other: &Self) -> bool {
        self.endpoint == other.endpoint
            && self.region == other.region
            && self.access_key_id == other.access_key_id
            && self.secret_access_key.as_ref().map(ExposeSecret::expose_secret)
                == other.secret_access_key.as_ref().map(ExposeSecret::expose_secret)
            && self.allow_http == other.allow_http
    }
}

impl Eq for S3Settings {}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "[redacted]"))
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

impl fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Directory(dir) => f.debug_tuple("Directory").field(dir).finish(),
            StoreLocation::S3 { bucket, prefix, settings } => {
                f.debug_struct("S3").field("bucket", bucket).field("prefix", prefix).field("settings", settings).finish()
            }
        }
    }
}

impl fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreLocation::Directory(dir) => write!(f, "{}", dir.display()),
            StoreLocation::S3 { bucket, prefix, .. } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            StoreLocation::S3 { bucket, prefix, .. } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// `CRIER_MEDIA_STORE` could not be understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadLocation(pub String);

impl fmt::Display for BadLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadLocation {}

impl StoreLocation {
    /// Parses `s3://bucket/optional/prefix`, `file:///absolute/dir`, or a plain directory path.
    pub fn parse(raw: &str, settings: S3Settings) -> Result<StoreLocation, BadLocation> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(BadLocation("is empty: give a directory, or s3://bucket/prefix".into()));
        }
        if let Some(rest) = raw.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let valid_bucket = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
            if !valid_bucket {
                return Err(BadLocation(format!(
                    "`{raw}`: `{bucket}` is not a bucket name (3 to 63 lowercase letters, digits, dots and hyphens)"
                )));
            }
            let prefix = prefix.trim_matches('/');
            if prefix.split('/').any(|part| part == "." || part == "..") {
                return Err(BadLocation(format!("`{raw}`: the prefix may not contain `.` or `..`")));
            }
            return Ok(StoreLocation::S3 { bucket: bucket.to_owned(), prefix: prefix.to_owned(), settings });
        }
        if let Some(path) = raw.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(BadLocation(format!("`{raw}`: a file:// location needs an absolute path (file:///srv/crier/media)")));
            }
            return Ok(StoreLocation::Directory(PathBuf::from(path)));
        }
        if raw.contains("://") {
            return Err(BadLocation(format!("`{raw}`: only s3:// and file:// locations (or a directory path) are supported")));
        }
        Ok(StoreLocation::Directory(PathBuf::from(raw)))
    }
}

/// Where one object is, inside the store.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MediaKey(String);

impl MediaKey {
    /// The bytes of a media item (what is published).
    pub fn original(team_id: Uuid, media_id: Uuid) -> MediaKey {
        MediaKey(format!("teams/{team_id}/media/{media_id}"))
    }

    /// A media item's thumbnail (a small JPEG).
    pub fn thumbnail(team_id: Uuid, media_id: Uuid) -> MediaKey {
        MediaKey(format!("teams/{team_id}/media/{media_id}.thumbnail.jpg"))
    }

    /// Chunk `index` (from 0) of a resumable upload: kept in the store, not on one machine's
    /// disk, so that consecutive chunks may reach different web processes.
    pub fn upload_chunk(team_id: Uuid, upload_id: Uuid, index: u64) -> MediaKey {
        MediaKey(format!("{}/{index:06}", upload_prefix(team_id, upload_id)))
    }

    /// A key for the store's own checks (readiness, the test suite).
    pub fn probe(name: &str) -> MediaKey {
        MediaKey(format!("probes/{}", name.replace(['/', '.'], "-")))
    }

    /// The key as the store sees it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn path(&self) -> ObjectPath {
        ObjectPath::from(self.0.as_str())
    }
}

/// Where a resumable upload's chunks are: [`MediaKey::upload_chunk`] and
/// [`MediaStore::delete_upload_chunks`] agree through it.
fn upload_prefix(team_id: Uuid, upload_id: Uuid) -> String {
    format!("uploads/{team_id}/{upload_id}")
}

impl fmt::Display for MediaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A media store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No object under that key.
    #[error("no media stored under {0}")]
    NotFound(MediaKey),
    /// The store could not be opened (bad settings, a directory that cannot be made).
    #[error("the media store {location} cannot be opened: {reason}")]
    Open {
        /// Where it was.
        location: String,
        /// Why not.
        reason: String,
    },
    /// Reading the local file being stored failed.
    #[error("reading the file to store failed: {0}")]
    Local(#[from] std::io::Error),
    /// The store answered with an error (unreachable, refused, out of space).
    #[error("the media store failed: {0}")]
    Store(object_store::Error),
}

impl From<object_store::Error> for StorageError {
    fn from(error: object_store::Error) -> Self {
        StorageError::Store(error)
    }
}

fn not_found_or(key: &MediaKey) -> impl FnOnce(object_store::Error) -> StorageError + '_ {
    move |error| match error {
        object_store::Error::NotFound { .. } => StorageError::NotFound(key.clone()),
        other => StorageError::Store(other),
    }
}

/// Bytes of one object as they arrive.
pub type ByteStream = BoxStream<'static, Result<Bytes, StorageError>>;

/// The media store. Cheap to clone: the connection pool inside is shared.
#[derive(Clone)]
pub struct MediaStore {
    inner: Arc<dyn ObjectStore>,
    location: String,
}

impl fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaStore").field("location", &self.location).finish()
    }
}

impl MediaStore {
    /// Opens the store at `location` (a directory is created if missing).
    pub fn open(location: &StoreLocation) -> Result<MediaStore, StorageError> {
        let described = location.to_string();
        let open_error = |reason: String| StorageError::Open { location: described.clone(), reason };
        let inner: Arc<dyn ObjectStore> = match location {
            StoreLocation::Directory(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| open_error(format!("cannot create the directory: {e}")))?;
                let store = LocalFileSystem::new_with_prefix(dir).map_err(|e| open_error(e.to_string()))?;
                // Deleting an item's last file removes its now empty team directories too.
                Arc::new(store.with_automatic_cleanup(true))
            }
            StoreLocation::S3 { bucket, prefix, settings } => {
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
                if let Some(endpoint) = &settings.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let Some(region) = &settings.region {
                    builder = builder.with_region(region);
                }
                if let Some(id) = &settings.access_key_id {
                    builder = builder.with_access_key_id(id);
                }
                if let Some(secret) = &settings.secret_access_key {
                    builder = builder.with_secret_access_key(secret.expose_secret());
                }
                if settings.allow_http {
                    builder = builder.with_allow_http(true);
                }
                let store = builder.build().map_err(|e| open_error(e.to_string()))?;
                if prefix.is_empty() { Arc::new(store) } else { Arc::new(PrefixStore::new(store, prefix.as_str())) }
            }
        };
        Ok(MediaStore { inner, location: described })
    }

    /// Where the store is, for logs and the status page (never with credentials).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Stores the file at `path` under `key`, streaming it in [`CHUNK_BYTES`] chunks. Returns
    /// the bytes written. A failure leaves nothing under `key`.
    pub async fn put_file(&self, key: &MediaKey, path: &Path) -> Result<u64, StorageError> {
        let mut file = tokio::fs::File::open(path).await?;
        let size = file.metadata().await?.len();
        if size <= CHUNK_BYTES as u64 {
            // One request: the whole file fits in one chunk anyway.
            let mut buffer = Vec::with_capacity(size as usize);
            file.read_to_end(&mut buffer).await?;
            self.inner.put(&key.path(), PutPayload::from(buffer)).await?;
            return Ok(size);
        }
        let upload = self.inner.put_multipart(&key.path()).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, CHUNK_BYTES);
        let mut buffer = vec![0u8; 256 * 1024];
        let mut written = 0u64;
        loop {
            let read = match file.read(&mut buffer).await {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) => {
                    let _ = writer.abort().await;
                    return Err(error.into());
                }
            };
            if let Err(error) = writer.wait_for_capacity(CONCURRENT_CHUNKS).await {
                let _ = writer.abort().await;
                return Err(error.into());
            }
            writer.write(&buffer[..read]);
            written += read as u64;
        }
        writer.finish().await?;
        Ok(written)
    }

    /// Stores small bytes (a thumbnail) under `key`.
    pub async fn put_bytes(&self, key: &MediaKey, bytes: Bytes) -> Result<(), StorageError> {
        self.inner.put(&key.path(), PutPayload::from(bytes)).await?;
        Ok(())
    }

    /// The object's size.
    pub async fn size(&self, key: &MediaKey) -> Result<u64, StorageError> {
        let meta = self.inner.head(&key.path()).await.map_err(not_found_or(key))?;
        Ok(meta.size)
    }

    /// The whole object as a stream.
    pub async fn stream(&self, key: &MediaKey) -> Result<ByteStream, StorageError> {
        let result = self.inner.get(&key.path()).await.map_err(not_found_or(key))?;
        Ok(result.into_stream().map_err(StorageError::from).boxed())
    }

    /// Bytes `range` of the object as a stream (a chunk of a chunked upload, an HTTP range).
    pub async fn stream_range(&self, key: &MediaKey, range: Range<u64>) -> Result<ByteStream, StorageError> {
        let options = object_store::GetOptions { range: Some(range.into()), ..Default::default() };
        let result = self.inner.get_opts(&key.path(), options).await.map_err(not_found_or(key))?;
        Ok(result.into_stream().map_err(StorageError::from).boxed())
    }

    /// Bytes `range` of the object, in memory: only for small ranges (a thumbnail, a chunk).
    pub async fn read_range(&self, key: &MediaKey, range: Range<u64>) -> Result<Bytes, StorageError> {
        self.inner.get_range(&key.path(), range).await.map_err(not_found_or(key))
    }

    /// The whole of a small object (a thumbnail), in memory.
    pub async fn read_small(&self, key: &MediaKey) -> Result<Bytes, StorageError> {
        let result = self.inner.get(&key.path()).await.map_err(not_found_or(key))?;
        Ok(result.bytes().await?)
    }

    /// Deletes the object; a key with nothing under it is not an error.
    pub async fn delete(&self, key: &MediaKey) -> Result<(), StorageError> {
        match self.inner.delete(&key.path()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }

    /// Deletes every chunk stored for a resumable upload (whatever arrived, recorded or not);
    /// answers how many there were.
    pub async fn delete_upload_chunks(&self, team_id: Uuid, upload_id: Uuid) -> Result<u64, StorageError> {
        let prefix = ObjectPath::from(upload_prefix(team_id, upload_id));
        let chunks = self.inner.list(Some(&prefix)).map_ok(|meta| meta.location).boxed();
        let mut deleted = self.inner.delete_stream(chunks);
        let mut count = 0;
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) => count += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Ok(count)
    }

    /// Writes, reads back and deletes a small object: whether the store works at all, with these
    /// credentials (checked at start-up, so a misconfigured bucket is an error then, not at the
    /// first upload).
    pub async fn check(&self) -> Result<(), StorageError> {
        let key = MediaKey::probe(&format!("check-{}", Uuid::new_v4()));
        let probe = Bytes::from_static(b"crier media store check");
        self.put_bytes(&key, probe.clone()).await?;
        let back = self.read_small(&key).await?;
        self.delete(&key).await?;
        if back != probe {
            return Err(StorageError::Open {
                location: self.location.clone(),
                reason: "an object read back differs from what was written".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_refuse_what_they_cannot_be() {
        let s3 = StoreLocation::parse("s3://crier-media/team/prod/", S3Settings::default()).unwrap();
        assert_eq!(s3.to_string(), "s3://crier-media/team/prod");
        assert!(matches!(s3, StoreLocation::S3 { ref prefix, .. } if prefix == "team/prod"));
        assert_eq!(
            StoreLocation::parse("./.crier/media", S3Settings::default()).unwrap(),
            StoreLocation::Directory("./.crier/media".into())
        );
        assert_eq!(
            StoreLocation::parse("file:///srv/media", S3Settings::default()).unwrap(),
            StoreLocation::Directory("/srv/media".into())
        );
        for (bad, says) in [
            ("", "is empty"),
            ("s3://UPPER", "not a bucket name"),
            ("s3://ok-bucket/../x", "may not contain"),
            ("file://relative", "absolute path"),
            ("gs://bucket", "only s3:// and file://"),
        ] {
            let error = StoreLocation::parse(bad, S3Settings::default()).unwrap_err();
            assert!(error.to_string().contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn the_secret_key_never_shows_in_debug() {
        let settings = S3Settings { secret_access_key: Some(SecretString::from("very-secret-key")), ..Default::default() };
        let location = StoreLocation::S3 { bucket: "b".repeat(3), prefix: String::new(), settings };
        let shown = format!("{location:?}");
        assert!(!shown.contains("very-secret-key"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn keys_are_made_from_ids_only() {
        let (team, item) = (Uuid::nil(), Uuid::max());
        assert_eq!(MediaKey::original(team, item).as_str(), format!("teams/{team}/media/{item}"));
        assert!(MediaKey::thumbnail(team, item).as_str().ends_with(".thumbnail.jpg"));
        assert_eq!(MediaKey::probe("a/../b").as_str(), "probes/a----b");
        assert_eq!(MediaKey::upload_chunk(team, item, 7).as_str(), format!("uploads/{team}/{item}/000007"));
    }

    #[tokio::test]
    async fn a_directory_store_streams_files_in_and_out_by_range() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::open(&StoreLocation::Directory(dir.path().join("media"))).unwrap();
        store.check().await.unwrap();
        // Larger than a chunk, so it goes through the multipart path.
        let source = dir.path().join("big.bin");
        let bytes: Vec<u8> = (0..(CHUNK_BYTES + 12_345)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&source, &bytes).unwrap();
        let key = MediaKey::original(Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(store.put_file(&key, &source).await.unwrap(), bytes.len() as u64);
        assert_eq!(store.size(&key).await.unwrap(), bytes.len() as u64);
        let range = store.read_range(&key, 100..200).await.unwrap();
        assert_eq!(&range[..], &bytes[100..200]);
        let chunks: Vec<Bytes> = store.stream_range(&key, 5..(CHUNK_BYTES as u64 + 10)).await.unwrap().try_collect().await.unwrap();
        let streamed: Vec<u8> = chunks.concat();
        assert_eq!(streamed, bytes[5..CHUNK_BYTES + 10]);
        store.delete(&key).await.unwrap();
        assert!(matches!(store.size(&key).await, Err(StorageError::NotFound(_))));
        store.delete(&key).await.unwrap();
    }

    #[tokio::test]
    async fn an_uploads_chunks_are_deleted_together_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let store = MediaStore::open(&StoreLocation::Directory(dir.path().join("media"))).unwrap();
        let (team, upload, other) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        for index in 0..3 {
            store.put_bytes(&MediaKey::upload_chunk(team, upload, index), Bytes::from_static(b"chunk")).await.unwrap();
        }
        let kept = MediaKey::upload_chunk(team, other, 0);
        store.put_bytes(&kept, Bytes::from_static(b"chunk")).await.unwrap();
        assert_eq!(store.delete_upload_chunks(team, upload).await.unwrap(), 3);
        assert_eq!(store.delete_upload_chunks(team, upload).await.unwrap(), 0, "again: nothing left, no error");
        assert_eq!(store.size(&kept).await.unwrap(), 5, "another upload's chunk stays");
        assert_eq!(store.delete_upload_chunks(team, Uuid::new_v4()).await.unwrap(), 0, "an upload that stored nothing");
    }
}
