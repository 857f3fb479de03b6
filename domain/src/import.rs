//! Bulk import of posts from a CSV file: the format, read once into rows that say what each post
//! is, with every problem found named by its row (as a spreadsheet numbers it: the header is row
//! 1) and column, in words that say what to fix.
//!
//! This module only reads the file; [`crate::store::imports`] matches the accounts and media named
//! and schedules every row through the same path Compose uses, in one transaction.
//!
//! The format:
//! - A header row is required; columns may come in any order; an unknown column is refused by
//!   name. `text`, `accounts` and `date` are required; the others are optional.
//! - `text`; `text_x`, `text_linkedin`, `text_facebook` (a different text for that platform).
//! - `accounts`: account names, `;`-separated, matched within the team without regard to case;
//!   `x:Name`, `linkedin:Name` or `facebook:Name` picks one platform's account where a name is on
//!   several, and `@handle` an X account by its handle.
//! - `date` (`YYYY-MM-DD`) and `time` (`HH:MM`), the importing member's local time; or `queue` in
//!   `date` (each account's next free posting time, as Compose's “Add to queue”).
//! - `link`: a web address.
//! - `thread`: X replies after the post, separated by a line holding only `---`.
//! - `media`: library items by name (or id), or https addresses of files to fetch, `;`-separated.
//! - UTF-8 with or without a byte-order mark; fields quoted (`"…"`, with `""` for a quote) may
//!   hold commas and newlines; lines end with LF or CRLF. Rows whose fields are all empty are
//!   skipped (spreadsheets write them), and count in the numbering.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

/// The most rows one file may hold, unless configured (`CRIER_IMPORT_MAX_ROWS`).
pub const DEFAULT_MAX_ROWS: usize = 5_000;
/// The largest file accepted, unless configured (`CRIER_IMPORT_MAX_FILE_SIZE`), in bytes.
pub const DEFAULT_MAX_BYTES: u64 = 5_000_000;
/// The most rows any configuration may allow: one transaction holds them all.
pub const MAX_ROWS_LIMIT: usize = 50_000;
/// The most problems a report lists; the rest are counted.
pub const MAX_PROBLEMS: usize = 500;
/// The most names one `accounts` or `media` cell may list.
pub const MAX_NAMES_PER_CELL: usize = 50;

/// The columns a file may have, in the template's order.
pub const COLUMNS: [&str; 10] = ["text", "text_x", "text_linkedin", "text_facebook", "accounts", "date", "time", "link", "thread", "media"];

/// The columns every file must have.
pub const REQUIRED_COLUMNS: [&str; 3] = ["text", "accounts", "date"];

/// The template offered for download: the header and two example rows.
pub const TEMPLATE: &str = "text,text_x,text_linkedin,text_facebook,accounts,date,time,link,thread,media\r\n\
\"Our spring collection is here.\",\"Spring is here: see what's new.\",,,Acme;x:Acme News,2030-03-20,09:30,https://example.com/spring,,\r\n\
\"A thread, in three parts.\",,,,x:Acme News,2030-03-21,14:00,,\"The second part.\n---\nThe third part.\",spring.jpg\r\n";

/// The limits of an import (configured once: `CRIER_IMPORT_MAX_ROWS`, `CRIER_IMPORT_MAX_FILE_SIZE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportLimits {
    /// The most rows (not counting the header).
    pub max_rows: usize,
    /// The largest file, in bytes.
    pub max_bytes: u64,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits { max_rows: DEFAULT_MAX_ROWS, max_bytes: DEFAULT_MAX_BYTES }
    }
}

/// Something to fix: in a row and column, in a row, or in the whole file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The row as a spreadsheet numbers it (the header is 1); `None`: the whole file.
    pub row: Option<usize>,
    /// The column, when one is to blame.
    pub column: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl Problem {
    /// A problem of the whole file.
    pub fn file(message: impl Into<String>) -> Self {
        Problem { row: None, column: None, message: message.into() }
    }

    /// A problem in `row` (and `column`).
    pub fn at(row: usize, column: Option<&str>, message: impl Into<String>) -> Self {
        Problem { row: Some(row), column: column.map(str::to_owned), message: message.into() }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.row, &self.column) {
            (Some(row), Some(column)) => write!(f, "row {row}, {column}: {}", self.message),
            (Some(row), None) => write!(f, "row {row}: {}", self.message),
            _ => write!(f, "{}", self.message),
        }
    }
}

/// When a row's post goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// At this local wall-clock time, in the importing member's timezone.
    At(NaiveDate, NaiveTime),
    /// In the next free slot of each account's posting queue.
    Queue,
}

/// A media item a row names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaName {
    /// A library item, by its name (or id).
    Library(String),
    /// A file on the web.
    Url(String),
}

/// A row read from the file, not yet matched against the team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Its number as a spreadsheet shows it.
    pub row: usize,
    /// The shared text.
    pub text: String,
    /// The texts for X, LinkedIn and Facebook (empty: the shared one).
    pub overrides: [String; 3],
    /// The accounts named, each as written.
    pub accounts: Vec<String>,
    /// When it goes out.
    pub when: When,
    /// The link as written.
    pub link: String,
    /// The thread's replies.
    pub thread: Vec<String>,
    /// The media named.
    pub media: Vec<MediaName>,
}

/// Which column each field of a record is.
struct Header {
    index: [Option<usize>; COLUMNS.len()],
    width: usize,
}

impl Header {
    fn get<'r>(&self, record: &'r csv::StringRecord, column: &str) -> &'r str {
        let position = COLUMNS.iter().position(|c| *c == column).and_then(|i| self.index[i]);
        position.and_then(|p| record.get(p)).unwrap_or("")
    }
}

/// Reads a file into rows. Refused as a whole (with every problem found, at most
/// [`MAX_PROBLEMS`]): a file over the size limit, not UTF-8, without a header, with unknown,
/// repeated or missing columns, or with more rows than allowed. Otherwise every row whose cells
/// read is returned, and the problems of the others beside them.
pub fn read(bytes: &[u8], limits: ImportLimits) -> Result<(Vec<Row>, Vec<Problem>), Vec<Problem>> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(vec![Problem::file(format!(
            "The file is {} bytes; at most {} are accepted. Split it into smaller files.",
            bytes.len(),
            limits.max_bytes
        ))]);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let line = bytes[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() + 1;
            return Err(vec![Problem::file(format!(
                "The file is not UTF-8 text (line {line}). Save it as “CSV UTF-8” (in Excel: Save As → CSV UTF-8) and try again."
            ))]);
        }
    };
    if text.trim().is_empty() {
        return Err(vec![Problem::file("The file is empty. Start from the template: a header row, then one row per post.")]);
    }
    // Every quoted field has an opening and a closing quote, and a quote inside one is doubled:
    // an odd count means a quote is never closed, and the rest of the file would be one field.
    if text.bytes().filter(|b| *b == b'"').count() % 2 == 1 {
        return Err(vec![Problem::file(
            "A double quote is never closed. A field with a comma, a quote or a line break is written in double quotes, \
             and a quote inside it as two (\"\"): check the quotes.",
        )]);
    }
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(record)) => header(&record)?,
        Some(Err(e)) => return Err(vec![Problem::file(format!("The header row could not be read: {}.", csv_error(&e)))]),
        None => return Err(vec![Problem::file("The file is empty. Start from the template: a header row, then one row per post.")]),
    };
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut counted = 0usize;
    for (index, record) in records.enumerate() {
        let number = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                // A broken quote swallows the rest of the file: nothing after it can be trusted.
                problems.push(Problem::at(number, None, format!("This row could not be read: {}.", csv_error(&e))));
                break;
            }
        };
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        counted += 1;
        if counted > limits.max_rows {
            return Err(vec![Problem::file(format!(
                "The file has more than {} rows; at most {} can be imported at once. Split it into several files.",
                limits.max_rows, limits.max_rows
            ))]);
        }
        if problems.len() >= MAX_PROBLEMS {
            continue;
        }
        match row(number, &header, &record) {
            Ok(row) => rows.push(row),
            Err(found) => problems.extend(found),
        }
    }
    if rows.is_empty() && problems.is_empty() {
        return Err(vec![Problem::file("The file has a header but no posts: add one row per post under it.")]);
    }
    Ok((rows, problems))
}

fn csv_error(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "it is not UTF-8 text".into(),
        _ => {
            "check its quotes (a field with a comma, a quote or a line break is written in double quotes, and a quote inside as two)".into()
        }
    }
}

fn header(record: &csv::StringRecord) -> Result<Header, Vec<Problem>> {
    let names: Vec<String> = record.iter().map(|n| n.trim().to_lowercase()).collect();
    let mut index = [None; COLUMNS.len()];
    let mut unknown = Vec::new();
    let mut repeated = Vec::new();
    for (position, name) in names.iter().enumerate() {
        if name.is_empty() {
            continue;
        }
        match COLUMNS.iter().position(|c| c == name) {
            Some(i) if index[i].is_some() => repeated.push(name.clone()),
            Some(i) => index[i] = Some(position),
            None => unknown.push(shorten(name, 40)),
        }
    }
    let expected = COLUMNS.join(", ");
    if index.iter().all(Option::is_none) {
        return Err(vec![Problem::at(
            1,
            None,
            format!("The first row must be the header, naming the columns: {expected} (download the template)."),
        )]);
    }
    let mut problems = Vec::new();
    if !unknown.is_empty() {
        unknown.truncate(20);
        problems.push(Problem::at(
            1,
            None,
            format!(
                "Unknown {}: {}. The columns are: {expected}.",
                if unknown.len() == 1 { "column" } else { "columns" },
                unknown.join(", ")
            ),
        ));
    }
    if !repeated.is_empty() {
        problems.push(Problem::at(1, None, format!("Each column may appear once; {} appears more than once.", repeated.join(", "))));
    }
    let missing: Vec<&str> = REQUIRED_COLUMNS.iter().copied().filter(|c| names.iter().all(|n| n != c)).collect();
    if !missing.is_empty() {
        problems.push(Problem::at(
            1,
            None,
            format!("Add the {} {}.", if missing.len() == 1 { "column" } else { "columns" }, missing.join(", ")),
        ));
    }
    if problems.is_empty() { Ok(Header { index, width: names.len() }) } else { Err(problems) }
}

fn shorten(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars { text.to_owned() } else { format!("{}…", text.chars().take(chars).collect::<String>()) }
}

fn row(number: usize, header: &Header, record: &csv::StringRecord) -> Result<Row, Vec<Problem>> {
    let mut problems = Vec::new();
    if record.len() > header.width && record.iter().skip(header.width).any(|f| !f.trim().is_empty()) {
        problems.push(Problem::at(
            number,
            None,
            format!("This row has {} fields but the header names {}: put commas inside double quotes.", record.len(), header.width),
        ));
    }
    let cell = |column: &str| header.get(record, column);
    let names = |column: &str, problems: &mut Vec<Problem>| -> Vec<String> {
        let names: Vec<String> = cell(column).split(';').map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).collect();
        if names.len() > MAX_NAMES_PER_CELL {
            problems.push(Problem::at(number, Some(column), format!("Name at most {MAX_NAMES_PER_CELL} here.")));
        }
        names
    };
    let accounts = names("accounts", &mut problems);
    if accounts.is_empty() {
        problems.push(Problem::at(number, Some("accounts"), "Name the accounts to post to, separated by “;”."));
    }
    let media = names("media", &mut problems)
        .into_iter()
        .map(|name| {
            let lower = name.to_ascii_lowercase();
            if lower.starts_with("https://") || lower.starts_with("http://") { MediaName::Url(name) } else { MediaName::Library(name) }
        })
        .collect();
    let when = match when(number, cell("date"), cell("time")) {
        Ok(when) => Some(when),
        Err(problem) => {
            problems.push(problem);
            None
        }
    };
    let thread = thread(cell("thread"));
    match when {
        Some(when) if problems.is_empty() => Ok(Row {
            row: number,
            text: cell("text").to_owned(),
            overrides: [cell("text_x").to_owned(), cell("text_linkedin").to_owned(), cell("text_facebook").to_owned()],
            accounts,
            when,
            link: cell("link").to_owned(),
            thread,
            media,
        }),
        _ => Err(problems),
    }
}

/// The `date` and `time` cells: a local date and time, or `queue`.
fn when(number: usize, date: &str, time: &str) -> Result<When, Problem> {
    let (date, time) = (date.trim(), time.trim());
    if date.eq_ignore_ascii_case("queue") {
        return Ok(When::Queue);
    }
    if date.is_empty() {
        return Err(Problem::at(number, Some("date"), "Give the date to publish on, as YYYY-MM-DD (or “queue”)."));
    }
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
        Problem::at(number, Some("date"), format!("“{}” is not a date: write it as YYYY-MM-DD, e.g. 2030-03-20.", shorten(date, 40)))
    })?;
    if time.is_empty() {
        return Err(Problem::at(number, Some("time"), "Give the time to publish at, as HH:MM (24-hour), e.g. 09:30."));
    }
    let at = NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| {
        Problem::at(number, Some("time"), format!("“{}” is not a time: write it as HH:MM (24-hour), e.g. 09:30.", shorten(time, 40)))
    })?;
    Ok(When::At(day, at))
}

/// The `thread` cell: replies separated by lines holding only `---` (blank replies dropped later).
fn thread(cell: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    for line in cell.lines() {
        if line.trim() == "---" {
            items.push(String::new());
        } else if let Some(last) = items.last_mut() {
            if !last.is_empty() {
                last.push('\n');
            }
            last.push_str(line);
        }
    }
    items.retain(|item| !item.trim().is_empty());
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Result<(Vec<Row>, Vec<Problem>), Vec<Problem>> {
        read(text.as_bytes(), ImportLimits::default())
    }

    #[test]
    fn reads_the_template() {
        let (rows, problems) = rows(TEMPLATE).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].accounts, ["Acme", "x:Acme News"]);
        assert_eq!(rows[1].thread, ["The second part.", "The third part."]);
        assert_eq!(rows[1].media, [MediaName::Library("spring.jpg".into())]);
        assert_eq!(rows[1].row, 3);
    }

    #[test]
    fn bom_crlf_quoted_newlines_and_any_column_order() {
        let file = "\u{feff}Accounts,DATE,time,text\r\nAcme,2030-01-01,09:00,\"Line one\r\nline two, with a comma\"\r\n";
        let (rows, problems) = rows(file).unwrap();
        assert!(problems.is_empty());
        assert_eq!(rows[0].text, "Line one\r\nline two, with a comma");
        assert_eq!(rows[0].when, When::At(NaiveDate::from_ymd_opt(2030, 1, 1).unwrap(), NaiveTime::from_hms_opt(9, 0, 0).unwrap()));
    }

    #[test]
    fn header_problems_are_named() {
        let e = rows("text,accounts,date,colour\nHi,A,2030-01-01\n").unwrap_err();
        assert!(e[0].message.contains("Unknown column: colour"), "{e:?}");
        let e = rows("Hello,Acme,2030-01-01,09:00\n").unwrap_err();
        assert!(e[0].message.contains("must be the header"), "{e:?}");
        let e = rows("text,time\nHi,09:00\n").unwrap_err();
        assert!(e[0].message.contains("accounts, date"), "{e:?}");
        assert!(rows("").is_err());
        assert!(rows("text,accounts,date\n").is_err());
        assert!(read(b"text,accounts,date\n\xff\xfe,a,b\n", ImportLimits::default()).unwrap_err()[0].message.contains("UTF-8"));
    }

    #[test]
    fn limits_are_kept() {
        let mut file = String::from("text,accounts,date,time\n");
        for _ in 0..4 {
            file.push_str("Hi,A,2030-01-01,09:00\n");
        }
        let limits = ImportLimits { max_rows: 3, max_bytes: 1_000 };
        assert!(read(file.as_bytes(), limits).unwrap_err()[0].message.contains("more than 3 rows"));
        let limits = ImportLimits { max_rows: 10, max_bytes: 10 };
        assert!(read(file.as_bytes(), limits).unwrap_err()[0].message.contains("at most 10"));
    }

    #[test]
    fn row_problems_name_row_and_column_and_queue_is_a_time() {
        let file = "text,accounts,date,time\nHi,,2030-13-01,9\nHi,A,queue,\n,A,2030-01-01,25:00\nx,A,2030-01-01,09:00,extra\n";
        let (rows, problems) = rows(file).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].when, When::Queue);
        let at: Vec<(Option<usize>, Option<&str>)> = problems.iter().map(|p| (p.row, p.column.as_deref())).collect();
        assert_eq!(at, [(Some(2), Some("accounts")), (Some(2), Some("date")), (Some(4), Some("time")), (Some(5), None)]);
    }

    #[test]
    fn no_input_panics() {
        let samples = [
            "\"",
            "text\n\"",
            ",,,,\n,,,",
            "text,accounts,date\n\"a\"\"b\",c,d,e,f,g\n",
            "\r\r\r",
            "text;accounts;date\n",
            "TEXT,ACCOUNTS,DATE,TIME\n",
            "text,accounts,date,time\nx,;;;;,2030-01-01,00:00\n",
            "text,thread,accounts,date,time\nx,---\n---,a,queue,\n",
        ];
        for sample in samples {
            let _ = rows(sample);
        }
        let mut noise = Vec::new();
        let mut seed = 7u32;
        for _ in 0..2_000 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            noise.push(b"ab,\"\n\r;-:0123456789 \xff"[(seed >> 16) as usize % 21]);
            let _ = read(&noise, ImportLimits::default());
        }
    }
}
