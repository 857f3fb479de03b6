//! Media settings: where files are kept (a directory, or an S3-compatible bucket shared by every
//! web and worker process), how large one file may be, and how much a team may keep. Read by
//! `crier serve` and `crier worker` (which reads the files it publishes).

use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use crier_media::MediaLimits;
use crier_media::storage::{S3Settings, StoreLocation};
use crier_platform::{PerPlatform, Platform};
use crier_publisher::FacebookVideoRoute;
use secrecy::{ExposeSecret, SecretString};

use super::{ConfigError, bad};

/// The largest file accepted, unless configured: X's largest video (512 MB) fits.
pub const DEFAULT_MAX_FILE_SIZE: &str = "512MB";
/// What a team may keep, unless configured.
pub const DEFAULT_TEAM_QUOTA: &str = "10GB";

/// Media settings (`crier serve` and `crier worker`).
#[derive(Args, Clone, Debug)]
pub struct MediaArgs {
    /// Where media files are kept: a directory, or `s3://bucket/prefix` for an S3-compatible store
    /// (AWS S3, MinIO, R2, Garage) that every web and worker process shares. Default:
    /// CRIER_DATA_DIR/media.
    #[arg(long = "media-store", env = "CRIER_MEDIA_STORE")]
    pub store: Option<String>,

    /// With an s3:// store: the endpoint of a store that is not AWS, e.g. `http://minio:9000`.
    #[arg(long = "media-s3-endpoint", env = "AWS_ENDPOINT_URL")]
    pub s3_endpoint: Option<String>,

    /// With an s3:// store: its region (`auto` for R2). Default: the bucket's.
    #[arg(long = "media-s3-region", env = "AWS_REGION")]
    pub s3_region: Option<String>,

    /// With an s3:// store: the access key id. Unset: instance or web-identity credentials.
    #[arg(long = "media-s3-access-key-id", env = "AWS_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,

    /// With an s3:// store: the secret access key.
    #[arg(long = "media-s3-secret-access-key", env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<SecretString>,

    /// With an s3:// store: allow a plain-http endpoint (`true`), for a store on a private network.
    #[arg(long = "media-s3-allow-http", env = "AWS_ALLOW_HTTP")]
    pub s3_allow_http: Option<String>,

    /// The largest file one upload may be: `512MB` (KB, MB, GB are powers of 1000; KiB, MiB, GiB
    /// of 1024).
    #[arg(long = "media-max-file-size", env = "CRIER_MEDIA_MAX_FILE_SIZE", default_value = DEFAULT_MAX_FILE_SIZE)]
    pub max_file_size: String,

    /// How much media one team may keep, all files together: `10GB`.
    #[arg(long = "media-team-quota", env = "CRIER_MEDIA_TEAM_QUOTA", default_value = DEFAULT_TEAM_QUOTA)]
    pub team_quota: String,

    #[command(flatten)]
    pub limits: MediaLimitArgs,

    /// How a Facebook Page video gets to Meta: `upload` (the worker sends the bytes in chunks with
    /// the Page token; works behind any firewall) or `link` (Meta fetches the file from a signed
    /// link under CRIER_PUBLIC_URL: one call, but Crier must be reachable from the internet).
    #[arg(long = "facebook-video-upload", env = "CRIER_FACEBOOK_VIDEO_UPLOAD", default_value = FacebookVideoRoute::default().as_str())]
    pub facebook_video: String,
}

/// Each platform's media rules, changed where a platform's limits have drifted:
/// `CRIER_X_MEDIA_LIMITS`, `CRIER_LINKEDIN_MEDIA_LIMITS`, `CRIER_FACEBOOK_MEDIA_LIMITS` (one per
/// platform, generated from [`Platform::ALL`]), each a JSON object with only the fields to change,
/// e.g. `{"image_max_bytes": 8000000, "max_images": 6}`; the fields and their defaults are
/// [`MediaLimits::defaults`]'s.
#[derive(Clone, Debug, Default)]
pub struct MediaLimitArgs(pub PerPlatform<Option<String>>);

/// `CRIER_X_MEDIA_LIMITS`.
pub fn limits_variable(platform: Platform) -> String {
    format!("{}_MEDIA_LIMITS", platform.settings_prefix())
}

impl Args for MediaLimitArgs {
    fn augment_args(mut cmd: Command) -> Command {
        for platform in Platform::ALL {
            let variable = limits_variable(platform);
            cmd = cmd.arg(
                Arg::new(variable.clone())
                    .long(format!("{}-media-limits", platform.as_str()))
                    .env(variable)
                    .action(ArgAction::Set)
                    .value_name("JSON")
                    .help(format!(
                        "Changes to {}'s media rules, as a JSON object of the fields to change (e.g. {{\"image_max_bytes\": 8000000}}); \
                         see the README for the fields and their defaults.",
                        platform.label()
                    )),
            );
        }
        cmd
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for MediaLimitArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(MediaLimitArgs(PerPlatform::from_fn(|p| matches.get_one::<String>(&limits_variable(p)).cloned())))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl MediaLimitArgs {
    /// Each platform's rules: its defaults with the given fields changed. An unknown field or a
    /// value of the wrong type names the variable and the field.
    pub fn parse(&self) -> Result<PerPlatform<MediaLimits>, ConfigError> {
        let mut parsed = PerPlatform::from_fn(MediaLimits::defaults);
        for (platform, given) in self.0.iter() {
            let Some(given) = given.as_deref().map(str::trim).filter(|g| !g.is_empty()) else { continue };
            let variable = limits_variable(platform);
            let changes: serde_json::Value = serde_json::from_str(given)
                .map_err(|e| bad(&variable, format!("is not JSON ({e}); write e.g. {{\"image_max_bytes\": 8000000}}")))?;
            let serde_json::Value::Object(changes) = changes else {
                return Err(bad(&variable, "must be a JSON object of the fields to change"));
            };
            let mut merged = serde_json::to_value(MediaLimits::defaults(platform)).expect("limits serialize");
            let fields = merged.as_object_mut().expect("limits are an object");
            for (field, value) in changes {
                if !fields.contains_key(&field) {
                    let known: Vec<&str> = fields.keys().map(String::as_str).collect();
                    return Err(bad(&variable, format!("has no field `{field}`; the fields are {}", known.join(", "))));
                }
                fields.insert(field, value);
            }
            parsed[platform] = serde_json::from_value(merged).map_err(|e| bad(&variable, format!("has a value of the wrong type: {e}")))?;
        }
        Ok(parsed)
    }
}

impl Default for MediaArgs {
    fn default() -> Self {
        MediaArgs {
            store: None,
            s3_endpoint: None,
            s3_region: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_allow_http: None,
            max_file_size: DEFAULT_MAX_FILE_SIZE.into(),
            team_quota: DEFAULT_TEAM_QUOTA.into(),
            limits: MediaLimitArgs::default(),
            facebook_video: FacebookVideoRoute::default().as_str().into(),
        }
    }
}

/// Parsed media settings.
#[derive(Clone, Debug, PartialEq)]
pub struct MediaConfig {
    /// Where the files are.
    pub store: StoreLocation,
    /// Where uploads are written while they arrive and are read (always on this machine's disk,
    /// never in memory: `CRIER_DATA_DIR/uploads`).
    pub upload_dir: PathBuf,
    /// The largest file accepted, in bytes.
    pub max_file_bytes: u64,
    /// What one team may keep, in bytes.
    pub team_quota_bytes: u64,
    /// Each platform's media rules (checked in Compose, when a post is scheduled, and before
    /// anything is uploaded).
    pub limits: PerPlatform<MediaLimits>,
    /// How a Facebook Page video gets to Meta (read by the workers).
    pub facebook_video: FacebookVideoRoute,
}

impl MediaConfig {
    /// The defaults for a data directory: files in `<data_dir>/media`.
    pub fn in_data_dir(data_dir: &Path) -> MediaConfig {
        parse(&MediaArgs::default(), data_dir).expect("the default media settings parse")
    }
}

/// Parses the media settings; files default to `<data_dir>/media`.
pub fn parse(args: &MediaArgs, data_dir: &Path) -> Result<MediaConfig, ConfigError> {
    let allow_http = match args.s3_allow_http.as_deref().map(|v| v.trim().to_ascii_lowercase()) {
        None => false,
        Some(v) if v.is_empty() || v == "false" || v == "0" => false,
        Some(v) if v == "true" || v == "1" => true,
        Some(other) => return Err(bad("AWS_ALLOW_HTTP", format!("is `{other}`; use true or false"))),
    };
    let settings = S3Settings {
        endpoint: non_empty(&args.s3_endpoint),
        region: non_empty(&args.s3_region),
        access_key_id: non_empty(&args.s3_access_key_id),
        secret_access_key: args
            .s3_secret_access_key
            .as_ref()
            .filter(|s| !s.expose_secret().trim().is_empty())
            .map(|s| SecretString::from(s.expose_secret().trim().to_owned())),
        allow_http,
    };
    let store = match non_empty(&args.store) {
        Some(raw) => StoreLocation::parse(&raw, settings).map_err(|e| bad("CRIER_MEDIA_STORE", e.to_string()))?,
        None => StoreLocation::Directory(data_dir.join("media")),
    };
    let max_file_bytes = parse_size(&args.max_file_size).map_err(|e| bad("CRIER_MEDIA_MAX_FILE_SIZE", e))?;
    let team_quota_bytes = parse_size(&args.team_quota).map_err(|e| bad("CRIER_MEDIA_TEAM_QUOTA", e))?;
    if max_file_bytes < 1_000_000 {
        return Err(bad("CRIER_MEDIA_MAX_FILE_SIZE", "is below 1MB: photos alone are larger"));
    }
    let limits = args.limits.parse()?;
    let facebook_video = FacebookVideoRoute::parse(&args.facebook_video).map_err(|e| bad("CRIER_FACEBOOK_VIDEO_UPLOAD", e))?;
    Ok(MediaConfig { store, upload_dir: data_dir.join("uploads"), max_file_bytes, team_quota_bytes, limits, facebook_video })
}

fn non_empty(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

/// A size: `512MB`, `1.5GB`, `800KiB`, or bytes.
pub fn parse_size(raw: &str) -> Result<u64, String> {
    let text = raw.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let multiplier: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("`{raw}`: `{other}` is not a unit; write e.g. 512MB or 2GB")),
    };
    let value: f64 = number.parse().map_err(|_| format!("`{raw}` is not a size; write e.g. 512MB or 2GB"))?;
    let bytes = value * multiplier;
    if !(1.0..=1e15).contains(&bytes) {
        return Err(format!("`{raw}` is out of range (1 byte to 1PB)"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_both_kinds_of_units() {
        assert_eq!(parse_size("512MB"), Ok(512_000_000));
        assert_eq!(parse_size(" 1.5 GB "), Ok(1_500_000_000));
        assert_eq!(parse_size("800KiB"), Ok(819_200));
        assert_eq!(parse_size("1024"), Ok(1024));
        assert!(parse_size("12 parsecs").unwrap_err().contains("not a unit"));
        assert!(parse_size("MB").unwrap_err().contains("not a size"));
        assert!(parse_size("0").unwrap_err().contains("out of range"));
    }

    #[test]
    fn files_default_to_the_data_directory_and_s3_takes_its_settings() {
        let config = MediaConfig::in_data_dir(Path::new("/var/lib/crier"));
        assert_eq!(config.store, StoreLocation::Directory("/var/lib/crier/media".into()));
        assert_eq!(config.upload_dir, PathBuf::from("/var/lib/crier/uploads"));
        assert_eq!(config.max_file_bytes, 512_000_000);

        let args = MediaArgs {
            store: Some("s3://crier-media/prod".into()),
            s3_endpoint: Some("http://minio:9000".into()),
            s3_allow_http: Some("true".into()),
            s3_secret_access_key: Some(SecretString::from("shh-its-secret")),
            ..MediaArgs::default()
        };
        let config = parse(&args, Path::new("/data")).unwrap();
        match &config.store {
            StoreLocation::S3 { bucket, prefix, settings } => {
                assert_eq!((bucket.as_str(), prefix.as_str()), ("crier-media", "prod"));
                assert_eq!(settings.endpoint.as_deref(), Some("http://minio:9000"));
                assert!(settings.allow_http);
            }
            other => panic!("expected S3, got {other:?}"),
        }
        assert!(!format!("{config:?}").contains("shh-its-secret"));
    }

    #[test]
    fn facebook_videos_are_uploaded_unless_meta_is_to_fetch_them() {
        assert_eq!(MediaConfig::in_data_dir(Path::new("/d")).facebook_video, FacebookVideoRoute::Upload);
        let link = MediaArgs { facebook_video: " Link ".into(), ..MediaArgs::default() };
        assert_eq!(parse(&link, Path::new("/d")).unwrap().facebook_video, FacebookVideoRoute::Link);
        let err = parse(&MediaArgs { facebook_video: "fax".into(), ..MediaArgs::default() }, Path::new("/d")).unwrap_err();
        assert_eq!(err.variable, "CRIER_FACEBOOK_VIDEO_UPLOAD");
        assert!(err.problem.contains("fax"), "{}", err.problem);
    }

    #[test]
    fn a_platforms_limits_change_only_where_given() {
        let args = MediaLimitArgs(PerPlatform::from_fn(|p| {
            (p == Platform::X).then(|| r#"{"image_max_bytes": 8000000, "max_images": 6}"#.to_owned())
        }));
        let limits = args.parse().unwrap();
        assert_eq!(limits[Platform::X].image_max_bytes, Some(8_000_000));
        assert_eq!(limits[Platform::X].max_images, 6);
        assert_eq!(limits[Platform::X].gif_max_bytes, MediaLimits::defaults(Platform::X).gif_max_bytes);
        assert_eq!(limits[Platform::Linkedin], MediaLimits::defaults(Platform::Linkedin));

        let unknown = MediaLimitArgs(PerPlatform::from_fn(|p| (p == Platform::Facebook).then(|| r#"{"max_photos": 3}"#.to_owned())));
        let error = unknown.parse().unwrap_err();
        assert_eq!(error.variable, "CRIER_FACEBOOK_MEDIA_LIMITS");
        assert!(error.problem.contains("no field `max_photos`") && error.problem.contains("max_images"), "{error}");
        let wrong = MediaLimitArgs(PerPlatform::from_fn(|p| (p == Platform::X).then(|| r#"{"max_images": "four"}"#.to_owned())));
        assert!(wrong.parse().unwrap_err().problem.contains("wrong type"));
        let not_json = MediaLimitArgs(PerPlatform::from_fn(|p| (p == Platform::X).then(|| "max_images=6".to_owned())));
        assert!(not_json.parse().unwrap_err().problem.contains("is not JSON"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let bad_store = MediaArgs { store: Some("ftp://x".into()), ..MediaArgs::default() };
        assert_eq!(parse(&bad_store, Path::new("/d")).unwrap_err().variable, "CRIER_MEDIA_STORE");
        let bad_http = MediaArgs { s3_allow_http: Some("maybe".into()), ..MediaArgs::default() };
        assert_eq!(parse(&bad_http, Path::new("/d")).unwrap_err().variable, "AWS_ALLOW_HTTP");
        let tiny = MediaArgs { max_file_size: "10KB".into(), ..MediaArgs::default() };
        assert_eq!(parse(&tiny, Path::new("/d")).unwrap_err().variable, "CRIER_MEDIA_MAX_FILE_SIZE");
    }
}
