//! XLSX: one sheet per table (frozen header row, column widths, autofilter), written in
//! rust_xlsxwriter's constant-memory mode so a register of tens of thousands of records streams
//! row by row; a last sheet "About" holds the organisation, the date and the hash.

use std::collections::HashSet;

use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet};

use crate::{Document, ReportResult, Table};

/// Characters of width per unit of a column's relative width.
const WIDTH_PER_UNIT: f64 = 9.0;
const MAX_WIDTH: f64 = 70.0;

pub(crate) fn render(document: &Document) -> ReportResult<Vec<u8>> {
    let mut workbook = Workbook::new();
    let header = Format::new().set_bold().set_background_color("#E8ECF1").set_text_wrap().set_align(FormatAlign::Top);
    let body = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let mut names = HashSet::new();
    for table in document.source.tables() {
        let sheet = workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(unique_sheet_name(&table.name, &mut names))?;
        write_table(sheet, table, &header, &body)?;
        sheet.set_header(&format!(
            "&L{}&R{}",
            escape_ampersands(&document.source.organisation.name),
            escape_ampersands(&document.source.title)
        ));
        sheet.set_footer(&format!("&LSHA-256 {}&RPage &P of &N", document.sha256()));
    }
    let about = workbook.add_worksheet_with_constant_memory()?;
    about.set_name(unique_sheet_name("About", &mut names))?;
    write_about(about, document, &header)?;
    Ok(workbook.save_to_buffer()?)
}

fn write_table(sheet: &mut Worksheet, table: &Table, header: &Format, body: &Format) -> ReportResult<()> {
    for (col, column) in table.columns.iter().enumerate() {
        let col = col as u16;
        sheet.set_column_width(col, (f64::from(column.width) * WIDTH_PER_UNIT + 6.0).min(MAX_WIDTH))?;
        sheet.write_string_with_format(0, col, &column.title, header)?;
    }
    for (index, row) in table.rows.iter().enumerate() {
        let row_number = index as u32 + 1;
        for (col, cell) in row.iter().enumerate() {
            sheet.write_string_with_format(row_number, col as u16, cell, body)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    if let Some(last_col) = table.columns.len().checked_sub(1) {
        sheet.autofilter(0, 0, table.rows.len() as u32, last_col as u16)?;
    }
    Ok(())
}

fn write_about(sheet: &mut Worksheet, document: &Document, header: &Format) -> ReportResult<()> {
    let facts = [
        ("Report", document.source.title.clone()),
        ("Organisation", document.source.organisation.name.clone()),
        ("Generated", document.generated_at.clone()),
        ("Records shown", document.source.records.len().to_string()),
        ("SHA-256 of the source data", document.sha256().to_owned()),
        ("How to check", "Download the same report as format=json and compare its SHA-256 with the value above.".to_owned()),
    ];
    sheet.set_column_width(0, 28)?;
    sheet.set_column_width(1, 80)?;
    for (row, (label, value)) in facts.iter().enumerate() {
        sheet.write_string_with_format(row as u32, 0, *label, header)?;
        sheet.write_string(row as u32, 1, value)?;
    }
    Ok(())
}

/// Excel's rules: at most 31 characters, none of `[]:*?/\`, unique within the workbook.
fn unique_sheet_name(wanted: &str, taken: &mut HashSet<String>) -> String {
    let clean: String = wanted.chars().filter(|c| !"[]:*?/\\'".contains(*c)).take(28).collect();
    let base = if clean.trim().is_empty() { "Sheet".to_owned() } else { clean.trim().to_owned() };
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.to_lowercase()) {
        name = format!("{base} {n}");
        n += 1;
    }
    name
}

/// `&` starts a control code in Excel's header and footer text.
fn escape_ampersands(text: &str) -> String {
    text.replace('&', "&&")
}
