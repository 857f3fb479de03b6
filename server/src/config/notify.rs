//! Notifications' settings: the SMTP server emails go through (none by default: the bell and
//! chat channels still work), and how long a message waits for others to the same person.

use std::time::Duration;

use clap::Args;
use crier_mail::Mailer;
use secrecy::SecretString;

use super::{ConfigError, bad};

/// The command line's and environment's notification settings.
#[derive(Args, Clone, Debug)]
pub struct NotifyArgs {
    /// The SMTP server notifications and invitations are emailed through:
    /// `smtps://user:password@smtp.example.com:465`, `smtp://user:password@host:587?tls=required`
    /// (STARTTLS), or `smtp://localhost:25` (a local relay, no TLS). Unset: nothing is emailed.
    #[arg(long = "smtp-url", env = "CRIER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<SecretString>,
    /// The sender of Crier's emails, e.g. `Crier <crier@example.com>` (required with CRIER_SMTP_URL).
    #[arg(long = "smtp-from", env = "CRIER_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// Seconds a notification waits before it is emailed or posted to a chat channel, so that a
    /// burst of them goes as one digest.
    #[arg(long = "notify-gather", env = "CRIER_NOTIFY_GATHER", default_value_t = crier_publisher::notify::DEFAULT_GATHER.as_secs())]
    pub gather_secs: u64,
}

impl Default for NotifyArgs {
    /// The command line's defaults.
    fn default() -> Self {
        NotifyArgs { smtp_url: None, smtp_from: None, gather_secs: crier_publisher::notify::DEFAULT_GATHER.as_secs() }
    }
}

/// The notification settings, parsed.
#[derive(Clone, Debug)]
pub struct NotifyConfig {
    /// The SMTP server, if emails are sent.
    pub mailer: Option<Mailer>,
    /// How long a message waits for others to the same recipient.
    pub gather: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig { mailer: None, gather: crier_publisher::notify::DEFAULT_GATHER }
    }
}

/// How long the SMTP server has to answer.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// Parses the settings.
pub fn parse(args: &NotifyArgs) -> Result<NotifyConfig, ConfigError> {
    let mailer = match (&args.smtp_url, args.smtp_from.as_deref().map(str::trim).filter(|f| !f.is_empty())) {
        (None, _) => None,
        (Some(_), None) => {
            return Err(bad("CRIER_SMTP_FROM", "is not set; give the sender of Crier's emails, e.g. Crier <crier@example.com>"));
        }
        (Some(url), Some(from)) => Some(Mailer::new(url, from, SMTP_TIMEOUT).map_err(|e| match e {
            crier_mail::MailError::Settings(words) if words.starts_with("CRIER_SMTP_FROM") => bad("CRIER_SMTP_FROM", words),
            other => bad("CRIER_SMTP_URL", other.to_string()),
        })?),
    };
    Ok(NotifyConfig { mailer, gather: Duration::from_secs(args.gather_secs) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_needs_a_sender_and_a_usable_url() {
        assert!(parse(&NotifyArgs::default()).unwrap().mailer.is_none());
        let url = Some(SecretString::from("smtp://user:hunter2@localhost:2525"));
        let no_from = NotifyArgs { smtp_url: url.clone(), ..NotifyArgs::default() };
        assert_eq!(parse(&no_from).unwrap_err().variable, "CRIER_SMTP_FROM");
        let ok = NotifyArgs { smtp_url: url, smtp_from: Some("Crier <crier@example.com>".into()), gather_secs: 0 };
        let parsed = parse(&ok).unwrap();
        assert!(parsed.mailer.is_some());
        assert_eq!(parsed.gather, Duration::ZERO);
        let bad_url = NotifyArgs { smtp_url: Some(SecretString::from("ftp://user:hunter2@host")), ..ok };
        let error = parse(&bad_url).unwrap_err();
        assert_eq!(error.variable, "CRIER_SMTP_URL");
        assert!(!format!("{error:?} {error}").contains("hunter2"));
    }
}
