//! The token vault's keys: the current one seals, previous ones (during a rotation) still open;
//! from `CRIER_SECRET_KEY` (and `CRIER_PREVIOUS_SECRET_KEYS`), or, with the embedded database, the
//! key file Crier generates in its data directory. [`KeyRing::open_vault`] opens the vault with
//! them.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use crier_domain::store::vault_keys;
use crier_vault::{Vault, VaultKey};
use secrecy::{ExposeSecret, SecretBox};
use sqlx::PgPool;

use super::{Config, ConfigError, DatabaseSetting, bad};

/// One 32-byte key of the token vault.
pub struct SecretKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

impl SecretKey {
    pub(super) fn parse(encoded: &str, source: &'static str) -> Result<Self, ConfigError> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .map_err(|_| bad(source, "is not base64; generate a key with `head -c 32 /dev/urandom | base64`"))?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|b: Vec<u8>| bad(source, format!("decodes to {} bytes; it must be exactly 32", b.len())))?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, ConfigError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| bad("CRIER_SECRET_KEY", format!("no randomness to generate a key: {e}")))?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    /// The key bytes.
    pub fn expose(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }

    fn encode(&self) -> String {
        STANDARD.encode(self.expose())
    }
}

/// Where the keys came from, which decides how `crier admin rotate-key` rotates them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// CRIER_SECRET_KEY (and CRIER_PREVIOUS_SECRET_KEYS): the operator rotates them.
    Environment,
    /// The key file in the data dir (embedded default): Crier rotates it itself.
    File(PathBuf),
}

/// The token vault's keys: the current one seals, previous ones (during a rotation) only open.
#[derive(Debug)]
pub struct KeyRing {
    /// Seals every new value.
    pub current: SecretKey,
    /// Still open values sealed before a rotation.
    pub previous: Vec<SecretKey>,
    /// Where they came from.
    pub source: KeySource,
}

impl KeyRing {
    const FILE_NAME: &'static str = "secret.key";

    /// The keys to use: CRIER_SECRET_KEY (plus CRIER_PREVIOUS_SECRET_KEYS) when given; with the
    /// embedded database, the key file in the data dir (generated on first run); with
    /// DATABASE_URL and no key, an error, because a key generated on one machine would leave the
    /// others unable to decrypt.
    pub fn resolve(config: &Config) -> Result<Self, ConfigError> {
        if let Some(key) = &config.secret_key {
            let previous = config.previous_keys.iter().map(|k| SecretKey(SecretBox::new(Box::new(*k.expose())))).collect();
            return Ok(Self { current: SecretKey(SecretBox::new(Box::new(*key.expose()))), previous, source: KeySource::Environment });
        }
        if !config.previous_keys.is_empty() {
            return Err(bad("CRIER_PREVIOUS_SECRET_KEYS", "is set without CRIER_SECRET_KEY; set the new key in CRIER_SECRET_KEY"));
        }
        if let DatabaseSetting::External(_) = config.database {
            return Err(bad(
                "CRIER_SECRET_KEY",
                "is required when DATABASE_URL is set; generate one with `head -c 32 /dev/urandom | base64`",
            ));
        }
        Self::load_or_create(&config.data_dir)
    }

    /// A ring of one fresh key, kept nowhere (tests).
    pub fn ephemeral() -> Self {
        Self { current: SecretKey::generate().expect("randomness"), previous: Vec::new(), source: KeySource::Environment }
    }

    /// Reads the key file: the current key on the first line, previous keys on the lines after
    /// (present only while a rotation is under way).
    fn load(path: &Path) -> Result<Option<Self>, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mut keys = text.lines().filter(|l| !l.trim().is_empty()).map(|l| SecretKey::parse(l, "CRIER_DATA_DIR"));
                let current = keys.next().ok_or_else(|| bad("CRIER_DATA_DIR", format!("{} is empty", path.display())))??;
                let previous = keys.collect::<Result<Vec<_>, _>>()?;
                Ok(Some(Self { current, previous, source: KeySource::File(path.to_owned()) }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(bad("CRIER_DATA_DIR", format!("cannot read {}: {e}", path.display()))),
        }
    }

    fn load_or_create(data_dir: &Path) -> Result<Self, ConfigError> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;

        let path = data_dir.join(Self::FILE_NAME);
        if let Some(ring) = Self::load(&path)? {
            return Ok(ring);
        }
        std::fs::create_dir_all(data_dir).map_err(|e| bad("CRIER_DATA_DIR", format!("cannot create {}: {e}", data_dir.display())))?;
        let key = SecretKey::generate()?;
        // create_new: two processes starting at once cannot overwrite each other's key; the loser
        // reads the winner's.
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(mut file) => {
                file.write_all(key.encode().as_bytes())
                    .map_err(|e| bad("CRIER_DATA_DIR", format!("cannot write {}: {e}", path.display())))?;
                Ok(Self { current: key, previous: Vec::new(), source: KeySource::File(path) })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::load_or_create(data_dir),
            Err(e) => Err(bad("CRIER_DATA_DIR", format!("cannot write {}: {e}", path.display()))),
        }
    }

    /// Replaces the key file's contents atomically (write a sibling, fsync, rename), so a crash
    /// leaves either the old file or the new one, never half of one.
    pub fn write_file(path: &Path, keys: &[&SecretKey]) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;

        let tmp = path.with_extension("key.tmp");
        let _ = std::fs::remove_file(&tmp);
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        let text: String = keys.iter().map(|k| k.encode() + "\n").collect();
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    /// Key-file rotation, step 1: a new current key, the old ones kept as previous (on disk too).
    pub fn rotate_file(self) -> Result<Self, ConfigError> {
        let KeySource::File(path) = &self.source else {
            return Err(bad(
                "CRIER_SECRET_KEY",
                "is set, so you rotate it: put the new key in CRIER_SECRET_KEY, the old one in CRIER_PREVIOUS_SECRET_KEYS, then run `crier admin rotate-key`",
            ));
        };
        let new = SecretKey::generate()?;
        let mut keys = vec![&new, &self.current];
        keys.extend(self.previous.iter());
        Self::write_file(path, &keys).map_err(|e| bad("CRIER_DATA_DIR", format!("cannot write {}: {e}", path.display())))?;
        let mut previous = vec![self.current];
        previous.extend(self.previous);
        Ok(Self { current: new, previous, source: self.source })
    }
}

impl KeyRing {
    /// The vault for these keys. Each key's id comes from the `vault_key` registry (assigned on
    /// first use), so an operator never picks ids and two keys can never share one.
    pub async fn open_vault(&self, pool: &PgPool) -> anyhow::Result<Vault> {
        let keys: Vec<_> = std::iter::once(&self.current).chain(&self.previous).collect();
        let fingerprints: Vec<_> = keys.iter().map(|key| vault_keys::fingerprint(key.expose())).collect();
        let ids = vault_keys::key_ids(pool, &fingerprints).await.context("cannot register the secret keys")?;
        let vault_key = |i: usize| VaultKey::new(ids[i], *keys[i].expose()).context("a registered key id is unusable");
        let mut vault = Vault::new(vault_key(0)?);
        for i in 1..keys.len() {
            vault = vault.with_previous(vault_key(i)?);
        }
        Ok(vault)
    }
}
