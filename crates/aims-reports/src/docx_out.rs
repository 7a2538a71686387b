//! DOCX: for the documents an organisation edits and signs in its own word processor (the SoA,
//! review minutes, scope, policy). Real heading styles (so the navigation pane and a table of
//! contents work), tables with a shaded header row, and the date, organisation and hash in the
//! page footer beside the page number.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, Docx, Footer, Header, PageMargin, PageNum, PageOrientationType, Paragraph, Run, RunFonts, Shading, ShdType, Style,
    StyleType, Table as DocxTable, TableCell, TableRow, WidthType,
};

use crate::{Block, Document, Fact, Orientation, ReportError, ReportResult, Table};

/// A4 in twentieths of a point.
const A4_SHORT: u32 = 11_906;
const A4_LONG: u32 = 16_838;
const MARGIN: i32 = 1_020;

pub(crate) fn render(document: &Document) -> ReportResult<Vec<u8>> {
    let mut docx = page_setup(Docx::new(), document.orientation)
        .default_fonts(RunFonts::new().ascii("Calibri").hi_ansi("Calibri"))
        .default_size(20)
        .add_style(heading_style("Title", "Title", 40))
        .add_style(heading_style("Heading1", "Heading 1", 30).outline_lvl(0))
        .add_style(heading_style("Heading2", "Heading 2", 24).outline_lvl(1))
        .header(Header::new().add_paragraph(small(&format!("{} — {}", document.source.organisation.name, document.source.title))))
        .footer(
            Footer::new().add_paragraph(small(&document.footer_line())).add_paragraph(
                Paragraph::new()
                    .style("Normal")
                    .align(AlignmentType::Right)
                    .add_run(Run::new().size(16).add_text("Page "))
                    .add_page_num(PageNum::new()),
            ),
        )
        .add_paragraph(Paragraph::new().style("Title").add_run(Run::new().add_text(&document.source.title)))
        .add_paragraph(text(&format!("{} · generated {}", document.source.organisation.name, document.generated_at)));
    let width = content_width(document.orientation);
    for block in &document.source.blocks {
        docx = match block {
            Block::Heading { text: heading } => {
                docx.add_paragraph(Paragraph::new().style("Heading1").add_run(Run::new().add_text(heading)))
            }
            Block::Paragraph { text: body } => docx.add_paragraph(text(body)),
            Block::Notice { text: body } => docx.add_paragraph(Paragraph::new().style("Normal").add_run(Run::new().bold().add_text(body))),
            Block::Facts { items } => docx.add_table(facts_table(items, width)).add_paragraph(Paragraph::new().style("Normal")),
            Block::Table(table) => docx.add_table(data_table(table, width)).add_paragraph(Paragraph::new().style("Normal")),
        };
    }
    let mut out = Cursor::new(Vec::new());
    docx.build().pack(&mut out).map_err(|error| ReportError::Docx(error.to_string()))?;
    Ok(out.into_inner())
}

fn page_setup(docx: Docx, orientation: Orientation) -> Docx {
    let margin = PageMargin::new().top(MARGIN).bottom(MARGIN).left(MARGIN).right(MARGIN).header(500).footer(500);
    match orientation {
        Orientation::Portrait => docx.page_size(A4_SHORT, A4_LONG).page_margin(margin),
        Orientation::Landscape => docx.page_size(A4_LONG, A4_SHORT).page_orient(PageOrientationType::Landscape).page_margin(margin),
    }
}

fn content_width(orientation: Orientation) -> usize {
    let page = match orientation {
        Orientation::Portrait => A4_SHORT,
        Orientation::Landscape => A4_LONG,
    };
    (page as usize).saturating_sub(2 * MARGIN as usize)
}

fn heading_style(id: &str, name: &str, half_points: usize) -> Style {
    Style::new(id, StyleType::Paragraph).name(name).bold().size(half_points).color("1F3A5F")
}

fn text(body: &str) -> Paragraph {
    Paragraph::new().style("Normal").add_run(Run::new().add_text(body))
}

fn small(body: &str) -> Paragraph {
    Paragraph::new().style("Normal").add_run(Run::new().size(14).color("555555").add_text(body))
}

fn cell(body: &str, width: usize) -> TableCell {
    TableCell::new().width(width, WidthType::Dxa).add_paragraph(text(body))
}

fn header_cell(body: &str, width: usize) -> TableCell {
    TableCell::new()
        .width(width, WidthType::Dxa)
        .shading(Shading::new().shd_type(ShdType::Clear).fill("E8ECF1"))
        .add_paragraph(Paragraph::new().style("Normal").add_run(Run::new().bold().add_text(body)))
}

fn facts_table(items: &[Fact], width: usize) -> DocxTable {
    let label_width = width / 3;
    let rows = items
        .iter()
        .map(|fact| TableRow::new(vec![header_cell(&fact.label, label_width), cell(&fact.value, width - label_width)]))
        .collect();
    DocxTable::new(rows).set_grid(vec![label_width, width - label_width])
}

fn data_table(table: &Table, width: usize) -> DocxTable {
    let total: usize = table.columns.iter().map(|column| usize::from(column.width.max(1))).sum::<usize>().max(1);
    let widths: Vec<usize> = table.columns.iter().map(|column| width * usize::from(column.width.max(1)) / total).collect();
    let header = TableRow::new(table.columns.iter().zip(&widths).map(|(column, w)| header_cell(&column.title, *w)).collect());
    let mut rows = vec![header];
    rows.extend(
        table.rows.iter().map(|row| TableRow::new(row.iter().zip(&widths).map(|(value, w)| cell(value, *w)).collect()).cant_split()),
    );
    DocxTable::new(rows).set_grid(widths)
}
