//! CSV: the report's first table, one row per record, then the footer facts after a blank row
//! (a CSV has no footer of its own; spreadsheet users see them under the data).

use crate::{Document, ReportError, ReportResult, neutralise_formula};

pub(crate) fn render(document: &Document) -> ReportResult<Vec<u8>> {
    let table = document.source.tables().next().ok_or(ReportError::NoTable("CSV"))?;
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    writer.write_record(table.columns.iter().map(|column| neutralise_formula(&column.title)))?;
    for row in &table.rows {
        writer.write_record(row.iter().map(|cell| neutralise_formula(cell)))?;
    }
    writer.write_record([""])?;
    writer.write_record(["Report", &document.source.title])?;
    writer.write_record(["Organisation", &neutralise_formula(&document.source.organisation.name)])?;
    writer.write_record(["Generated", &document.generated_at])?;
    writer.write_record(["SHA-256 of the source data (format=json)", document.sha256()])?;
    writer.into_inner().map_err(|error| ReportError::Io(error.into_error()))
}
