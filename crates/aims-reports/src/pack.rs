//! An archive of documents (the Stage 1 pack) with `manifest.json`: every file's SHA-256 and
//! size, what each item is, and a note of each item that could not be produced and why.

use std::io::{Cursor, Write};

use serde::Serialize;
use zip::write::SimpleFileOptions;

use crate::{ReportResult, sha256_hex};

/// One file of the archive.
pub struct PackEntry {
    /// The path inside the archive (`01-scope/scope.pdf`).
    pub path: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Serialize)]
pub struct ManifestFile {
    pub path: String,
    pub sha256: String,
    pub bytes: usize,
}

/// What the archive holds and what it lacks.
#[derive(Debug, Serialize)]
pub struct PackManifest {
    pub kind: String,
    pub organisation: String,
    pub generated_at: String,
    pub files: Vec<ManifestFile>,
    /// Items the record does not hold yet ("no management review closed yet").
    pub missing: Vec<String>,
}

/// Writes the entries and their manifest (listing every entry's hash) into one ZIP archive.
pub fn build_pack(
    kind: &str,
    organisation: &str,
    generated_at: &str,
    entries: &[PackEntry],
    missing: Vec<String>,
) -> ReportResult<(Vec<u8>, PackManifest)> {
    let manifest = PackManifest {
        kind: kind.to_owned(),
        organisation: organisation.to_owned(),
        generated_at: generated_at.to_owned(),
        files: entries
            .iter()
            .map(|entry| ManifestFile { path: entry.path.clone(), sha256: sha256_hex(&entry.bytes), bytes: entry.bytes.len() })
            .collect(),
        missing,
    };
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for entry in entries {
        zip.start_file(entry.path.as_str(), options)?;
        zip.write_all(&entry.bytes)?;
    }
    zip.start_file("manifest.json", options)?;
    zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    Ok((zip.finish()?.into_inner(), manifest))
}
