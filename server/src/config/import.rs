//! Bulk CSV import settings: how many rows and how many bytes one file may have. Read by
//! `crier serve` (the Import page and `POST /api/v1/posts/import`) and `crier admin import-csv`.

use clap::Args;
use crier_domain::import::{DEFAULT_MAX_ROWS, ImportLimits, MAX_ROWS_LIMIT};

use super::{ConfigError, bad, media::parse_size};

/// The largest file accepted, unless configured.
pub const DEFAULT_MAX_FILE_SIZE: &str = "5MB";

/// The largest file any configuration may allow: a request's body is held in memory while it is read.
const MAX_FILE_SIZE_LIMIT: u64 = 100_000_000;

/// Import settings.
#[derive(Args, Clone, Debug)]
pub struct ImportArgs {
    /// The most rows of posts one CSV import may hold (1 to 50000): all are scheduled in one transaction.
    #[arg(id = "import_max_rows", long = "import-max-rows", env = "CRIER_IMPORT_MAX_ROWS", default_value_t = DEFAULT_MAX_ROWS)]
    pub max_rows: usize,

    /// The largest CSV file one import may be: `5MB` (KB, MB are powers of 1000; KiB, MiB of
    /// 1024), 100MB at most.
    #[arg(id = "import_max_file_size", long = "import-max-file-size", env = "CRIER_IMPORT_MAX_FILE_SIZE", default_value = DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: String,
}

impl Default for ImportArgs {
    /// The command line's defaults.
    fn default() -> Self {
        ImportArgs { max_rows: DEFAULT_MAX_ROWS, max_file_size: DEFAULT_MAX_FILE_SIZE.into() }
    }
}

impl ImportArgs {
    /// The limits; a bad value names its variable.
    pub fn parse(&self) -> Result<ImportLimits, ConfigError> {
        if !(1..=MAX_ROWS_LIMIT).contains(&self.max_rows) {
            return Err(bad("CRIER_IMPORT_MAX_ROWS", format!("is {}; give 1 to {MAX_ROWS_LIMIT}", self.max_rows)));
        }
        let max_bytes = parse_size(&self.max_file_size).map_err(|e| bad("CRIER_IMPORT_MAX_FILE_SIZE", e))?;
        if max_bytes > MAX_FILE_SIZE_LIMIT {
            return Err(bad("CRIER_IMPORT_MAX_FILE_SIZE", format!("`{}` is more than 100MB", self.max_file_size)));
        }
        Ok(ImportLimits { max_rows: self.max_rows, max_bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(ImportArgs::default().parse().unwrap(), ImportLimits::default());
        let args = ImportArgs { max_rows: 0, ..Default::default() };
        assert!(args.parse().unwrap_err().to_string().contains("CRIER_IMPORT_MAX_ROWS"));
        let args = ImportArgs { max_file_size: "1GB".into(), ..Default::default() };
        assert!(args.parse().unwrap_err().to_string().contains("CRIER_IMPORT_MAX_FILE_SIZE"));
        let args = ImportArgs { max_rows: 10, max_file_size: "64KiB".into() };
        assert_eq!(args.parse().unwrap(), ImportLimits { max_rows: 10, max_bytes: 65_536 });
    }
}
