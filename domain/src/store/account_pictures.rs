//! Accounts' profile pictures, as Crier stored them (fetched from the platform when the account
//! was connected or verified) and serves them at `/accounts/{id}/picture?v=<version>`.
//!
//! A picture is a [`Picture`]: bytes whose type was decided by their magic numbers (PNG, JPEG,
//! GIF or WebP; never SVG, never what the platform's `Content-Type` said), with a short version
//! taken from their digest. Every query takes the team and filters by it in SQL.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

use crate::DomainError;

/// The largest picture stored, whatever the fetch allows (the table's check says the same).
pub const MAX_PICTURE_BYTES: usize = 5 * 1024 * 1024;

/// The picture types stored: raster images a browser shows in an `<img>` and never runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PictureType {
    /// `image/png`
    Png,
    /// `image/jpeg`
    Jpeg,
    /// `image/gif`
    Gif,
    /// `image/webp`
    Webp,
}

impl PictureType {
    /// The type the bytes start like, if it is one of these.
    pub fn sniff(bytes: &[u8]) -> Option<PictureType> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(PictureType::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(PictureType::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(PictureType::Gif)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(PictureType::Webp)
        } else {
            None
        }
    }

    /// The MIME type, as stored and served.
    pub const fn mime(self) -> &'static str {
        match self {
            PictureType::Png => "image/png",
            PictureType::Jpeg => "image/jpeg",
            PictureType::Gif => "image/gif",
            PictureType::Webp => "image/webp",
        }
    }
}

/// Why fetched bytes are not a picture Crier stores.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PictureRefused {
    /// Nothing came.
    #[error("the picture is empty")]
    Empty,
    /// Larger than [`MAX_PICTURE_BYTES`].
    #[error("the picture is larger than {MAX_PICTURE_BYTES} bytes")]
    TooLarge,
    /// Not PNG, JPEG, GIF or WebP by its first bytes (SVG, HTML, an error page…).
    #[error("the picture is not a PNG, JPEG, GIF or WebP image")]
    NotAnImage,
}

/// A profile picture that may be stored: its type decided from its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    content_type: PictureType,
    bytes: Vec<u8>,
    version: String,
}

impl Picture {
    /// The bytes as a picture, or why they are not one.
    pub fn parse(bytes: Vec<u8>) -> Result<Picture, PictureRefused> {
        if bytes.is_empty() {
            return Err(PictureRefused::Empty);
        }
        if bytes.len() > MAX_PICTURE_BYTES {
            return Err(PictureRefused::TooLarge);
        }
        let content_type = PictureType::sniff(&bytes).ok_or(PictureRefused::NotAnImage)?;
        let digest = Sha256::digest(&bytes);
        let version = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Picture { content_type, bytes, version })
    }

    /// Its type.
    pub fn content_type(&self) -> PictureType {
        self.content_type
    }

    /// Its bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// 16 hex digits of its SHA-256: what its URL's `?v=` carries.
    pub fn version(&self) -> &str {
        &self.version
    }
}

/// A stored picture, to serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPicture {
    /// Its MIME type (one of [`PictureType`]'s).
    pub content_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Its version.
    pub version: String,
}

/// Where Crier serves an account's picture of `version`: the URL pages put in `<img src>`.
pub fn picture_url(account_id: Uuid, version: &str) -> String {
    format!("/accounts/{account_id}/picture?v={version}")
}

/// Stores the account's picture, unless the stored one has the same bytes (then nothing is
/// written). Answers whether it wrote. An account of another team, or none, writes nothing and
/// answers `NotFound`.
pub async fn store(pool: &PgPool, team_id: Uuid, account_id: Uuid, picture: &Picture) -> Result<bool, DomainError> {
    let exists = sqlx::query_scalar!(
        r#"select exists (select 1 from platform_account where team_id = $1 and account_id = $2) as "exists!""#,
        team_id,
        account_id
    )
    .fetch_one(pool)
    .await?;
    if !exists {
        return Err(DomainError::NotFound);
    }
    // The version is the digest: the same version is the same bytes, and the row is left alone.
    let written = sqlx::query!(
        r#"insert into account_picture (account_id, team_id, content_type, bytes, version)
           values ($2, $1, $3, $4, $5)
           on conflict (account_id) do update
               set content_type = excluded.content_type, bytes = excluded.bytes, version = excluded.version, fetched_at = now()
               where account_picture.team_id = excluded.team_id and account_picture.version <> excluded.version"#,
        team_id,
        account_id,
        picture.content_type().mime(),
        picture.bytes(),
        picture.version()
    )
    .execute(pool)
    .await?;
    Ok(written.rows_affected() > 0)
}

/// The account's stored picture, for its team (`NotFound` for none, another team's, or no account).
pub async fn get(pool: &PgPool, team_id: Uuid, account_id: Uuid) -> Result<StoredPicture, DomainError> {
    sqlx::query_as!(
        StoredPicture,
        "select content_type, bytes, version from account_picture where team_id = $1 and account_id = $2",
        team_id,
        account_id
    )
    .fetch_optional(pool)
    .await?
    .ok_or(DomainError::NotFound)
}

/// Every picture's version in the team, by account: what pages need to name accounts with their
/// pictures' URLs, without their bytes.
pub async fn versions(pool: &PgPool, team_id: Uuid) -> Result<HashMap<Uuid, String>, DomainError> {
    let rows = sqlx::query!("select account_id, version from account_picture where team_id = $1", team_id).fetch_all(pool).await?;
    Ok(rows.into_iter().map(|r| (r.account_id, r.version)).collect())
}

/// The team's picture URLs, by account ([`picture_url`] of each stored picture).
pub async fn urls(pool: &PgPool, team_id: Uuid) -> Result<HashMap<Uuid, String>, DomainError> {
    Ok(versions(pool, team_id).await?.into_iter().map(|(id, version)| (id, picture_url(id, &version))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_raster_images_by_their_bytes_are_pictures() {
        assert_eq!(Picture::parse(b"\x89PNG\r\n\x1a\n....".to_vec()).unwrap().content_type(), PictureType::Png);
        assert_eq!(Picture::parse(vec![0xFF, 0xD8, 0xFF, 0xE0, 0]).unwrap().content_type(), PictureType::Jpeg);
        assert_eq!(Picture::parse(b"GIF89a..".to_vec()).unwrap().content_type(), PictureType::Gif);
        assert_eq!(Picture::parse(b"RIFF\0\0\0\0WEBPVP8 ".to_vec()).unwrap().content_type(), PictureType::Webp);
        assert_eq!(Picture::parse(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec()), Err(PictureRefused::NotAnImage));
        assert_eq!(Picture::parse(b"<!doctype html><p>not found".to_vec()), Err(PictureRefused::NotAnImage));
        assert_eq!(Picture::parse(Vec::new()), Err(PictureRefused::Empty));
        let mut huge = b"\x89PNG\r\n\x1a\n".to_vec();
        huge.resize(MAX_PICTURE_BYTES + 1, 0);
        assert_eq!(Picture::parse(huge), Err(PictureRefused::TooLarge));
    }

    #[test]
    fn the_version_is_the_digest_so_the_same_bytes_keep_their_url() {
        let a = Picture::parse(b"GIF89a-one".to_vec()).unwrap();
        let b = Picture::parse(b"GIF89a-one".to_vec()).unwrap();
        let c = Picture::parse(b"GIF89a-two".to_vec()).unwrap();
        assert_eq!(a.version(), b.version());
        assert_ne!(a.version(), c.version());
        assert_eq!(a.version().len(), 16);
        assert!(a.version().chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
