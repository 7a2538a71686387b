//! HTML: one standalone, printable page (styles inline, no scripts, no external resources), for
//! reports meant to be read in a browser or published, such as the transparency disclosures.

use std::fmt::Write;

use crate::{Block, Document, ReportResult};

const STYLE: &str = "body{font:16px/1.6 system-ui,sans-serif;color:#1d2430;max-width:52rem;margin:2rem auto;padding:0 1.25rem}\
h1{font-size:1.8rem;margin:0 0 .25rem}h2{font-size:1.25rem;margin:2rem 0 .5rem;border-bottom:1px solid #d8dde6;padding-bottom:.25rem}\
.org{color:#4a5568;margin:0 0 1.5rem}dl{display:grid;grid-template-columns:minmax(8rem,14rem) 1fr;gap:.25rem 1rem}\
dt{font-weight:600}dd{margin:0}.notice{border-left:4px solid #b7791f;background:#fffaf0;padding:.5rem .75rem}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #d8dde6;padding:.35rem .5rem;text-align:left;vertical-align:top}\
th{background:#f4f6f9}footer{margin-top:3rem;font-size:.8rem;color:#4a5568;word-break:break-all}";

pub(crate) fn render(document: &Document) -> ReportResult<Vec<u8>> {
    let source = &document.source;
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · {org}</title><style>{STYLE}</style></head><body><main><h1>{title}</h1><p class=\"org\">{org}</p>",
        title = escape(&source.title),
        org = escape(&source.organisation.name),
    );
    for block in &source.blocks {
        write_block(&mut out, block);
    }
    let _ = write!(out, "</main><footer><p>{}</p><p>Records shown: ", escape(&document.footer_line()));
    let shown: Vec<String> = source.records.iter().map(|r| format!("{} {} v{}", r.kind, r.id, r.version)).collect();
    let shown = if shown.is_empty() { "none".to_owned() } else { shown.join(", ") };
    let _ = write!(out, "{}</p></footer></body></html>\n", escape(&shown));
    Ok(out.into_bytes())
}

fn write_block(out: &mut String, block: &Block) {
    match block {
        Block::Heading { text } => {
            let _ = write!(out, "<h2>{}</h2>", escape(text));
        }
        Block::Paragraph { text } => {
            let _ = write!(out, "<p>{}</p>", escape(text));
        }
        Block::Notice { text } => {
            let _ = write!(out, "<p class=\"notice\">{}</p>", escape(text));
        }
        Block::Facts { items } => {
            out.push_str("<dl>");
            for fact in items {
                let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", escape(&fact.label), escape(&fact.value));
            }
            out.push_str("</dl>");
        }
        Block::Table(table) => {
            out.push_str("<table><thead><tr>");
            for column in &table.columns {
                let _ = write!(out, "<th scope=\"col\">{}</th>", escape(&column.title));
            }
            out.push_str("</tr></thead><tbody>");
            for row in &table.rows {
                out.push_str("<tr>");
                for cell in row {
                    let _ = write!(out, "<td>{}</td>", escape(cell));
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table>");
        }
    }
}

/// Text as HTML: the five characters that could open markup or end an attribute are escaped.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Fact, Organisation, Orientation, Source};

    #[test]
    fn text_is_escaped_and_the_footer_names_the_hash_and_versions() {
        let org = Organisation { slug: "acme".into(), name: "Acme <AI>".into() };
        let mut source = Source::new("transparency", "AI transparency", org);
        source.heading("<script>alert(1)</script>");
        source.push(Block::Facts { items: vec![Fact::new("Intended use", "scoring & \"ranking\"")] });
        source.shows("ai_system", "sys-1", 3);
        let document = Document::new(source, "2026-12-08 03:00 UTC", Orientation::Portrait).expect("document");
        let html = String::from_utf8(render(&document).expect("html")).expect("utf-8");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("scoring &amp; &quot;ranking&quot;"));
        assert!(html.contains(document.sha256()));
        assert!(html.contains("ai_system sys-1 v3"));
    }
}
