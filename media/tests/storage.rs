//! The media store against its two backends: a directory and a real S3-compatible server (moto),
//! through the same calls Crier makes.

use bytes::Bytes;
use crier_media::storage::{CHUNK_BYTES, MediaKey, MediaStore, StorageError, StoreLocation};
use crier_media::test_s3::TestS3;
use futures::TryStreamExt;
use uuid::Uuid;

/// Deterministic bytes, larger than one chunk so that they go through a multipart upload.
fn big_file(dir: &std::path::Path) -> (std::path::PathBuf, Vec<u8>) {
    let bytes: Vec<u8> = (0..(2 * CHUNK_BYTES + 4321)).map(|i| (i % 251) as u8 ^ (i / 251) as u8).collect();
    let path = dir.join("video.bin");
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

async fn round_trip(store: &MediaStore) {
    store.check().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = big_file(dir.path());
    let (team, item) = (Uuid::new_v4(), Uuid::new_v4());
    let key = MediaKey::original(team, item);
    assert_eq!(store.put_file(&key, &path).await.unwrap(), bytes.len() as u64);
    assert_eq!(store.size(&key).await.unwrap(), bytes.len() as u64);

    let whole: Vec<Bytes> = store.stream(&key).await.unwrap().try_collect().await.unwrap();
    assert_eq!(whole.concat(), bytes, "the stored bytes are the file's");
    let middle = (CHUNK_BYTES as u64 - 10)..(CHUNK_BYTES as u64 + 10);
    assert_eq!(&store.read_range(&key, middle.clone()).await.unwrap()[..], &bytes[middle.start as usize..middle.end as usize]);

    let thumbnail = MediaKey::thumbnail(team, item);
    store.put_bytes(&thumbnail, Bytes::from_static(b"\xff\xd8thumb")).await.unwrap();
    assert_eq!(&store.read_small(&thumbnail).await.unwrap()[..], b"\xff\xd8thumb");

    store.delete(&key).await.unwrap();
    store.delete(&thumbnail).await.unwrap();
    assert!(matches!(store.size(&key).await, Err(StorageError::NotFound(_))));
    assert!(matches!(store.stream(&key).await.err(), Some(StorageError::NotFound(_))));
}

#[tokio::test]
async fn a_directory_store_keeps_and_streams_files() {
    let dir = tempfile::tempdir().unwrap();
    round_trip(&MediaStore::open(&StoreLocation::Directory(dir.path().join("media"))).unwrap()).await;
}

#[tokio::test]
async fn an_s3_store_keeps_and_streams_files() {
    let location = TestS3::shared().fresh_bucket("crier/media");
    let store = MediaStore::open(&location).unwrap();
    assert!(store.location().starts_with("s3://crier-test-"), "{}", store.location());
    round_trip(&store).await;
}

#[tokio::test]
async fn an_s3_store_that_does_not_exist_fails_its_check() {
    let mut location = TestS3::shared().fresh_bucket("");
    if let StoreLocation::S3 { bucket, .. } = &mut location {
        *bucket = format!("{bucket}-missing");
    }
    let store = MediaStore::open(&location).unwrap();
    let error = store.check().await.unwrap_err();
    assert!(matches!(error, StorageError::Store(_)), "{error}");
}
