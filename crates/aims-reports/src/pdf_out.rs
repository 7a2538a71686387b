//! PDF through typst: one template (`templates/report.typ`) lays out every report from its
//! blocks; tables repeat their header row on each page, the running header names the
//! organisation and the report, the footer carries the date, the hash and the page number.
//! Fonts are typst-assets' (embedded into each PDF), so output does not depend on the host.

use std::sync::OnceLock;

use serde::Serialize;
use typst::foundations::{Dict, Value};
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};
use typst_layout::PagedDocument;

use crate::{Document, Orientation, ReportError, ReportResult, Source};

static TEMPLATE: &str = include_str!("templates/report.typ");

/// What the template reads from `sys.inputs.data`.
#[derive(Serialize)]
struct TemplateData<'a> {
    source: &'a Source,
    generated_at: &'a str,
    sha256: &'a str,
    landscape: bool,
}

/// Parsing the fonts is the costly part of building an engine: build it once per process.
fn engine() -> &'static TypstEngine<TypstTemplateMainFile> {
    static ENGINE: OnceLock<TypstEngine<TypstTemplateMainFile>> = OnceLock::new();
    ENGINE.get_or_init(|| TypstEngine::builder().main_file(TEMPLATE).fonts(typst_assets::fonts()).build())
}

pub(crate) fn render(document: &Document) -> ReportResult<Vec<u8>> {
    let data = TemplateData {
        source: &document.source,
        generated_at: &document.generated_at,
        sha256: document.sha256(),
        landscape: document.orientation == Orientation::Landscape,
    };
    let mut inputs = Dict::new();
    inputs.insert("data".into(), Value::Str(serde_json::to_string(&data)?.into()));
    let compiled: PagedDocument = engine().compile_with_input(inputs).output.map_err(|error| ReportError::Pdf(format!("{error:?}")))?;
    typst_pdf::pdf(&compiled, &typst_pdf::PdfOptions::default()).map_err(|errors| ReportError::Pdf(format!("{errors:?}")))
}
