//! Renders reports the way a reader sees them: every PDF page to PNG with poppler's
//! `pdftoppm` (page count as laid out, no blank page), in both orientations, with a table long
//! enough to break across pages (its header repeated). Under CI a missing pdftoppm fails;
//! elsewhere it skips, saying so.

#![cfg(feature = "pdf")]

use std::path::Path;
use std::process::Command;

use aims_reports::{Block, Column, Document, Fact, Organisation, Orientation, Source, Table};

fn report(rows: usize, orientation: Orientation) -> Document {
    let mut source = Source::new("risk-register", "Risk register", Organisation { slug: "acme".into(), name: "Acme Insurance Ltd".into() });
    source.push(Block::Facts { items: vec![Fact::new("Risks", rows.to_string()), Fact::new("Above threshold", "3")] });
    source.heading("Risks");
    source.notice("Three risks above the acceptance threshold have no named acceptance.");
    let mut table = Table {
        name: "Risks".into(),
        columns: vec![Column::new("Title", 4), Column::new("Residual", 1), Column::new("Owner", 2), Column::new("Version", 1)],
        rows: Vec::new(),
    };
    for i in 0..rows {
        source.shows("risk", &format!("00000000-0000-7000-8000-{i:012}"), 1 + (i as i64 % 4));
        table.rows.push(vec![
            format!("Model drift in claims triage #{i} — a longer title that wraps onto a second line in the narrow column"),
            ["low", "medium", "high"][i % 3].into(),
            "Dana Okafor".into(),
            (1 + i % 4).to_string(),
        ]);
    }
    source.push(Block::Table(table));
    Document::new(source, "2026-12-08 01:20 UTC", orientation).expect("document")
}

fn pdftoppm() -> bool {
    let found = Command::new("pdftoppm").arg("-v").output().is_ok();
    if !found {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "pdftoppm (poppler-utils) is missing under CI");
        eprintln!("pdftoppm not installed: skipping the render check");
    }
    found
}

/// Renders every page; returns the PNG files. Each must hold ink: at least a few hundred dark
/// pixels (text), read from the PNG's grey levels by pdftoppm itself (`-gray`, PGM output).
fn render(pdf: &[u8], dir: &Path, name: &str) -> Vec<Vec<u8>> {
    let path = dir.join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).expect("write pdf");
    let status =
        Command::new("pdftoppm").args(["-r", "40", "-png"]).arg(&path).arg(dir.join(format!("{name}-png"))).status().expect("pdftoppm");
    assert!(status.success());
    let status =
        Command::new("pdftoppm").args(["-r", "40", "-gray"]).arg(&path).arg(dir.join(format!("{name}-grey"))).status().expect("pdftoppm");
    assert!(status.success());
    let mut pages: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&format!("{name}-grey"))))
        .collect();
    pages.sort();
    let pngs = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&format!("{name}-png")) && n.ends_with(".png")))
        .count();
    assert_eq!(pngs, pages.len(), "one PNG per page");
    pages.iter().map(|p| std::fs::read(p).expect("page")).collect()
}

/// Dark pixels of a binary PGM (P5) image.
fn ink(pgm: &[u8]) -> usize {
    // Header: "P5\n<w> <h>\n<max>\n", then one byte per pixel.
    let mut fields = 0;
    let mut start = 0;
    for (i, byte) in pgm.iter().enumerate() {
        if byte.is_ascii_whitespace() && i > 0 && !pgm[i - 1].is_ascii_whitespace() {
            fields += 1;
            if fields == 4 {
                start = i + 1;
                break;
            }
        }
    }
    pgm[start..].iter().filter(|&&v| v < 160).count()
}

#[test]
fn a_long_register_breaks_across_pages_and_every_page_renders() {
    if !pdftoppm() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    if let Ok(keep) = std::env::var("AIMS_REPORT_PNG_DIR") {
        std::fs::create_dir_all(&keep).expect("keep dir");
    }
    for (orientation, name) in [(Orientation::Portrait, "portrait"), (Orientation::Landscape, "landscape")] {
        let pdf = report(120, orientation).pdf().expect("pdf");
        let pages = render(&pdf, dir.path(), name);
        // AIMS_REPORT_PNG_DIR keeps the pages to look at.
        if let Ok(keep) = std::env::var("AIMS_REPORT_PNG_DIR") {
            for entry in std::fs::read_dir(dir.path()).expect("dir").filter_map(Result::ok) {
                if entry.path().extension().is_some_and(|e| e == "png" || e == "pgm") {
                    std::fs::copy(entry.path(), Path::new(&keep).join(entry.file_name())).expect("copy");
                }
            }
        }
        assert!(pages.len() >= 3, "{name}: 120 wrapped rows take several pages, got {}", pages.len());
        for (i, page) in pages.iter().enumerate() {
            assert!(ink(page) > 300, "{name}: page {} is blank ({} dark pixels)", i + 1, ink(page));
        }
    }
    let one = report(3, Orientation::Portrait).pdf().expect("pdf");
    assert_eq!(render(&one, dir.path(), "short").len(), 1, "a short report is one page");
}
