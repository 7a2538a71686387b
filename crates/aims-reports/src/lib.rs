//! The reports of aims, rendered from plain data: no database, no async, no clock.
//!
//! A caller (aims-app) gathers a [`Source`]: the organisation, the title, the exact record
//! versions it shows and the content as [`Block`]s. [`Document::new`] seals it with the SHA-256
//! of its canonical JSON (RFC 8785) and the generation time; every renderer prints that hash,
//! the organisation, the date and each record's version. A document cannot contain its own
//! hash, so the hash is of the source data: [`Document::source_json`] gives the exact bytes,
//! which the API serves as `format=json`, so anyone can check a printed hash with `sha256sum`.
//!
//! Renderers are synchronous and CPU-bound (typst especially): call them via `spawn_blocking`.

mod csv_out;
mod docx_out;
mod html_out;
mod pack;
#[cfg(feature = "pdf")]
mod pdf_out;
mod xlsx_out;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use pack::{PackEntry, PackManifest, build_pack};

/// What a renderer may refuse with. Every variant is a fault of ours or of the environment,
/// never of the caller's input: the data was validated when it was written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("PDF layout failed: {0}")]
    Pdf(String),
    #[error("PDF output is not built into this binary (the `pdf` feature is off)")]
    PdfUnavailable,
    #[error("XLSX: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("DOCX: {0}")]
    Docx(String),
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("ZIP: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the report has no table to write as {0}")]
    NoTable(&'static str),
}

pub type ReportResult<T> = Result<T, ReportError>;

/// The organisation a report is about.
#[derive(Debug, Clone, Serialize)]
pub struct Organisation {
    pub slug: String,
    pub name: String,
}

/// One record a report shows, at the version it was shown: what drift is judged against.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct RecordVersion {
    pub kind: String,
    pub id: String,
    pub version: i64,
}

/// A column of a table: its heading and its share of the width (relative, like typst's `fr`).
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub title: String,
    pub width: u16,
}

impl Column {
    pub fn new(title: &str, width: u16) -> Self {
        Self { title: title.to_owned(), width }
    }
}

/// A table: a spreadsheet sheet, a CSV file, a PDF or DOCX table with a repeated header.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// The sheet name (at most 31 characters, Excel's limit).
    pub name: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}

/// A labelled value shown in a block of facts ("Approved by", "Alice").
#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

impl Fact {
    pub fn new(label: &str, value: impl Into<String>) -> Self {
        Self { label: label.to_owned(), value: value.into() }
    }
}

/// The content of a report, in order.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Heading {
        text: String,
    },
    Paragraph {
        text: String,
    },
    /// Something the reader must not miss (a gap, a missing item).
    Notice {
        text: String,
    },
    Facts {
        items: Vec<Fact>,
    },
    Table(Table),
}

/// Everything a report shows, and nothing that changes between two generations of it from the
/// same record (no clock): its canonical JSON is what the footer's hash covers.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub kind: String,
    pub title: String,
    pub organisation: Organisation,
    /// The records shown, each at the version shown, sorted.
    pub records: Vec<RecordVersion>,
    pub blocks: Vec<Block>,
}

impl Source {
    pub fn new(kind: &str, title: &str, organisation: Organisation) -> Self {
        Self { kind: kind.to_owned(), title: title.to_owned(), organisation, records: Vec::new(), blocks: Vec::new() }
    }

    pub fn shows(&mut self, kind: &str, id: &str, version: i64) {
        self.records.push(RecordVersion { kind: kind.to_owned(), id: id.to_owned(), version });
    }

    pub fn push(&mut self, block: Block) {
        self.blocks.push(block);
    }

    pub fn heading(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Heading { text: text.into() });
    }

    pub fn paragraph(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Paragraph { text: text.into() });
    }

    pub fn notice(&mut self, text: impl Into<String>) {
        self.blocks.push(Block::Notice { text: text.into() });
    }

    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.blocks.iter().filter_map(|block| match block {
            Block::Table(table) => Some(table),
            _ => None,
        })
    }
}

/// Page orientation of the PDF: wide tables read better across.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Orientation {
    Portrait,
    Landscape,
}

/// A sealed report: its source, the canonical bytes of that source and their SHA-256, and when
/// it was generated.
#[derive(Debug, Clone)]
pub struct Document {
    pub source: Source,
    pub generated_at: String,
    pub orientation: Orientation,
    canonical: Vec<u8>,
    sha256: String,
}

impl Document {
    /// Seals `source`. `generated_at` is a display time ("2026-12-08 01:20 UTC").
    pub fn new(mut source: Source, generated_at: &str, orientation: Orientation) -> ReportResult<Self> {
        source.records.sort();
        source.records.dedup();
        let canonical = serde_jcs::to_vec(&source)?;
        let sha256 = hex::encode(Sha256::digest(&canonical));
        Ok(Self { source, generated_at: generated_at.to_owned(), orientation, canonical, sha256 })
    }

    /// The SHA-256 (hex) of [`source_json`](Self::source_json).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The canonical JSON of the source: the `format=json` download, whose SHA-256 is printed
    /// in every rendering's footer.
    pub fn source_json(&self) -> &[u8] {
        &self.canonical
    }

    /// The line every rendering carries at its foot.
    pub fn footer_line(&self) -> String {
        format!("{} · generated {} · SHA-256 of the source data: {}", self.source.organisation.name, self.generated_at, self.sha256)
    }

    pub fn pdf(&self) -> ReportResult<Vec<u8>> {
        #[cfg(feature = "pdf")]
        {
            pdf_out::render(self)
        }
        #[cfg(not(feature = "pdf"))]
        {
            Err(ReportError::PdfUnavailable)
        }
    }

    pub fn xlsx(&self) -> ReportResult<Vec<u8>> {
        xlsx_out::render(self)
    }

    /// The report's first table as CSV, with the footer facts after a blank line.
    pub fn csv(&self) -> ReportResult<Vec<u8>> {
        csv_out::render(self)
    }

    /// A standalone, printable HTML page (inline styles, no scripts).
    pub fn html(&self) -> ReportResult<Vec<u8>> {
        html_out::render(self)
    }

    pub fn docx(&self) -> ReportResult<Vec<u8>> {
        docx_out::render(self)
    }
}

/// SHA-256 (hex) of any bytes: the pack's manifest, the issued-document record.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A cell a spreadsheet would run as a formula (`= + - @`, or a tab or carriage return that
/// some spreadsheets strip before looking) starts with `'` instead.
pub fn neutralise_formula(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Document {
        let mut source = Source::new("soa", "Statement of Applicability", Organisation { slug: "acme".into(), name: "Acme Ltd".into() });
        source.shows("control", "A.2.2", 3);
        source.heading("Controls");
        source.push(Block::Facts { items: vec![Fact::new("Applicable", "37 of 38")] });
        source.push(Block::Table(Table {
            name: "Controls".into(),
            columns: vec![Column::new("Ref", 1), Column::new("Title", 4), Column::new("Version", 1)],
            rows: vec![vec!["A.2.2".into(), "=HYPERLINK(\"x\")".into(), "3".into()]],
        }));
        Document::new(source, "2026-12-08 01:20 UTC", Orientation::Landscape).unwrap()
    }

    #[test]
    fn the_hash_is_of_the_canonical_source_and_ignores_the_clock() {
        let first = sample();
        let mut later = sample();
        later.generated_at = "2027-01-01 00:00 UTC".into();
        assert_eq!(first.sha256(), later.sha256());
        assert_eq!(first.sha256(), sha256_hex(first.source_json()));
        let parsed: serde_json::Value = serde_json::from_slice(first.source_json()).unwrap();
        assert_eq!(parsed["records"][0]["version"], 3);
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(neutralise_formula("=1+1"), "'=1+1");
        assert_eq!(neutralise_formula("-3"), "'-3");
        assert_eq!(neutralise_formula("@x"), "'@x");
        assert_eq!(neutralise_formula("plain"), "plain");
    }

    #[test]
    fn csv_has_the_table_and_the_footer() {
        let text = String::from_utf8(sample().csv().unwrap()).unwrap();
        assert!(text.starts_with("Ref,Title,Version\n"), "{text}");
        assert!(text.contains("'=HYPERLINK"), "{text}");
        assert!(text.contains(sample().sha256()), "{text}");
    }

    #[test]
    fn xlsx_and_docx_are_zip_containers() {
        assert!(sample().xlsx().unwrap().starts_with(b"PK"));
        assert!(sample().docx().unwrap().starts_with(b"PK"));
    }

    #[cfg(feature = "pdf")]
    #[test]
    fn pdf_renders() {
        let pdf = sample().pdf().unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
