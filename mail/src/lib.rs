//! Email: the messages Crier sends, and the SMTP relay that sends them.
//!
//! - [`Mailer`] sends through the operator's SMTP server, named by `CRIER_SMTP_URL`
//!   (`smtps://user:password@host:465`, `smtp://host:587?tls=required` for STARTTLS, or
//!   `smtp://host:25` without TLS for a local relay), from `CRIER_SMTP_FROM`. The URL holds a
//!   password: it stays in a [`SecretString`] and no error or `Debug` output shows it.
//! - [`notifications`] writes a member's notifications as one email (a digest when there are
//!   several), in plain text and HTML, each kind with its unsubscribe link; [`invitation`] writes
//!   an invitation.
//!
//! The SMTP server is the operator's own, so the outbound address rules for teams' URLs
//! (`crier-outbound`) do not apply to it.

use std::time::Duration;

use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

/// Why an email was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The settings are not usable (said once, at start).
    #[error("{0}")]
    Settings(String),
    /// The address or the message cannot be written as an email.
    #[error("the message cannot be written: {0}")]
    Message(String),
    /// The server refused it for good (an unknown mailbox, a policy): retrying will not help.
    #[error("the mail server refused it: {0}")]
    Refused(String),
    /// It could not be sent now (a connection, a timeout, a busy server): retry later.
    #[error("the mail server could not be reached or did not accept it now: {0}")]
    Unavailable(String),
}

impl MailError {
    /// Whether sending again later may succeed.
    pub fn is_temporary(&self) -> bool {
        matches!(self, MailError::Unavailable(_))
    }
}

/// An email to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
    /// A `List-Unsubscribe` URL (with one-click `List-Unsubscribe-Post`), if the mail has one.
    pub unsubscribe: Option<String>,
}

/// Sends email through the configured SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    /// Never the server's URL, which holds a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for the server at `url`, sending from `from` (`Crier <crier@example.com>` or a bare
    /// address), giving up on a server that does not answer within `timeout`.
    pub fn new(url: &SecretString, from: &str, timeout: Duration) -> Result<Mailer, MailError> {
        let from: Mailbox = from.trim().parse().map_err(|_| {
            MailError::Settings(format!("CRIER_SMTP_FROM “{from}” is not an email address (write one like Crier <crier@example.com>)"))
        })?;
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret()).map_err(|e| {
            // The URL is not repeated: it holds a password.
            MailError::Settings(format!(
                "CRIER_SMTP_URL is not a usable SMTP URL ({e}); write smtps://user:password@host:465 or smtp://host:587?tls=required"
            ))
        })?;
        Ok(Mailer { transport: builder.timeout(Some(timeout)).build(), from })
    }

    /// Sends `mail`.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail.to.parse().map_err(|_| MailError::Message(format!("“{}” is not an email address", mail.to)))?;
        let mut builder = Message::builder().from(self.from.clone()).to(to).subject(mail.subject.clone());
        if let Some(url) = &mail.unsubscribe {
            builder = builder
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe"), format!("<{url}>")))
                .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click".into()));
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
            .map_err(|e| MailError::Message(e.to_string()))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| classify(&e))
    }
}

fn classify(error: &SmtpError) -> MailError {
    if error.is_permanent() { MailError::Refused(error.to_string()) } else { MailError::Unavailable(error.to_string()) }
}

/// HTML-escapes text for an email's HTML part.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One notification in an email.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// What happened, in words.
    pub words: String,
    /// Where to look (an absolute URL).
    pub link: String,
    /// When, as the reader reads times.
    pub when: String,
}

/// One kind's unsubscribe line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsubscribe {
    /// What the kind is ("A post of mine failed to publish").
    pub label: String,
    /// The link that turns it off (an absolute URL).
    pub url: String,
}

/// A member's notifications as one email to `to`: the one event as its subject, or a digest of
/// several; the settings page and each kind's unsubscribe link at the end.
pub fn notifications(to: &str, team: &str, items: &[Item], settings_url: &str, unsubscribe: &[Unsubscribe]) -> Mail {
    let subject = match items {
        [one] => format!("Crier: {}", one.words),
        many => format!("Crier: {} notifications for {team}", many.len()),
    };
    let mut text = String::new();
    let mut html = String::from("<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">");
    if items.len() > 1 {
        text.push_str(&format!("{} things happened in {team} on Crier:\n\n", items.len()));
        html.push_str(&format!("<p>{} things happened in {} on Crier:</p>", items.len(), escape(team)));
    }
    html.push_str("<ul>");
    for item in items {
        text.push_str(&format!("- {} ({})\n  {}\n", item.words, item.when, item.link));
        html.push_str(&format!(
            "<li><a href=\"{}\">{}</a> <small>{}</small></li>",
            escape(&item.link),
            escape(&item.words),
            escape(&item.when)
        ));
    }
    html.push_str("</ul>");
    text.push_str(&format!("\nChoose what Crier emails you: {settings_url}\n"));
    html.push_str(&format!(
        "<p><small>Choose what Crier emails you in <a href=\"{}\">your notification settings</a>.",
        escape(settings_url)
    ));
    for line in unsubscribe {
        text.push_str(&format!("Stop emails for “{}”: {}\n", line.label, line.url));
        html.push_str(&format!("<br>Stop emails for “{}”: <a href=\"{}\">unsubscribe</a>", escape(&line.label), escape(&line.url)));
    }
    html.push_str("</small></p></body></html>");
    // One kind: the header's one-click link turns it off.
    let header = match unsubscribe {
        [one] => Some(one.url.clone()),
        _ => None,
    };
    Mail { to: to.to_owned(), subject, text, html, unsubscribe: header }
}

/// An invitation to join `team` as `role`, accepted at `link` before `expires`.
pub fn invitation(to: &str, team: &str, role: &str, link: &str, expires: &str) -> Mail {
    let subject = format!("You are invited to {team} on Crier");
    let text = format!(
        "You are invited to join {team} on Crier as {role}.\n\nAccept the invitation: {link}\n\nThe link works until {expires}. \
         If you did not expect it, ignore this email."
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\"><p>You are invited to join <strong>{}</strong> on \
         Crier as {}.</p><p><a href=\"{}\">Accept the invitation</a></p><p><small>The link works until {}. If you did not expect it, \
         ignore this email.</small></p></body></html>",
        escape(team),
        escape(role),
        escape(link),
        escape(expires)
    );
    Mail { to: to.to_owned(), subject, text, html, unsubscribe: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_lists_every_item_escaped_and_one_kind_gets_the_header() {
        let items = vec![
            Item { words: "“<b>” failed on X.".into(), link: "https://crier.example/posts/1".into(), when: "09:00".into() },
            Item { words: "“b” failed on X.".into(), link: "https://crier.example/posts/2".into(), when: "09:01".into() },
        ];
        let unsubscribe = vec![Unsubscribe { label: "A post of mine failed".into(), url: "https://crier.example/unsubscribe?x".into() }];
        let mail = notifications("a@example.com", "Acme", &items, "https://crier.example/settings/notifications", &unsubscribe);
        assert_eq!(mail.subject, "Crier: 2 notifications for Acme");
        assert!(mail.html.contains("&lt;b&gt;") && !mail.html.contains("<b>"), "{}", mail.html);
        assert!(mail.text.contains("https://crier.example/posts/2"));
        assert_eq!(mail.unsubscribe.as_deref(), Some("https://crier.example/unsubscribe?x"));
        let one = notifications("a@example.com", "Acme", &items[1..], "https://s", &[]);
        assert_eq!(one.subject, "Crier: “b” failed on X.");
        assert_eq!(one.unsubscribe, None);
    }

    #[test]
    fn a_bad_url_or_sender_is_refused_without_repeating_the_url() {
        let url = SecretString::from("nope://user:hunter2@host");
        let error = Mailer::new(&url, "Crier <crier@example.com>", Duration::from_secs(5)).unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
        let error = Mailer::new(&SecretString::from("smtp://localhost:25"), "not an address", Duration::from_secs(5)).unwrap_err();
        assert!(error.to_string().contains("CRIER_SMTP_FROM"), "{error}");
    }
}

#[cfg(feature = "test-smtp")]
pub mod test_smtp;
