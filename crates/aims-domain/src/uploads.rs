//! What an evidence upload may be: the content types aims accepts, and a check that the
//! file's leading bytes agree with the type it claims (a renamed executable is not a PDF).

/// The content types accepted for evidence, with a label for error messages.
pub const ACCEPTED_TYPES: &[&str] = &[
    "application/pdf",
    "text/plain",
    "text/csv",
    "text/markdown",
    "application/json",
    "application/xml",
    "text/xml",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/zip",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "message/rfc822",
];

/// Why an upload is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefusal {
    #[error(
        "files of type {0} are not accepted; accepted: PDF, text, CSV, Markdown, JSON, XML, images, Office and OpenDocument files, ZIP, e-mail"
    )]
    TypeNotAccepted(String),
    #[error("the file's content does not match its declared type {declared}{}", .detected.as_ref().map(|d| format!(" (it looks like {d})")).unwrap_or_default())]
    ContentMismatch { declared: String, detected: Option<String> },
    #[error("the file is empty")]
    Empty,
}

/// The declared content type without parameters, lower-cased (`text/plain; charset=utf-8` →
/// `text/plain`).
pub fn essence(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// Types whose bytes follow a container format: ZIP for Office Open XML and OpenDocument.
fn zip_based(declared: &str) -> bool {
    declared == "application/zip" || declared.starts_with("application/vnd.openxmlformats") || declared.starts_with("application/vnd.oasis")
}

/// How many leading bytes of a file [`check_received`] needs: every signature `infer` knows
/// lies well within them.
pub const HEAD_BYTES: usize = 16 * 1024;

/// What is known of a file received in pieces, without holding it: its first
/// [`HEAD_BYTES`], its size, and whether all of it was UTF-8.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub head: Vec<u8>,
    pub size: u64,
    utf8: Utf8Stream,
}

impl Received {
    /// Takes the next piece of the file.
    pub fn push(&mut self, chunk: &[u8]) {
        let room = HEAD_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&chunk[..room.min(chunk.len())]);
        self.size += chunk.len() as u64;
        self.utf8.push(chunk);
    }

    /// Whether the whole file, now that it has all arrived, is UTF-8.
    pub fn is_utf8(&self) -> bool {
        self.utf8.is_complete()
    }
}

/// UTF-8 validation of a byte stream that arrives in arbitrary pieces: a character split
/// between two pieces is carried over to the next.
#[derive(Debug, Clone, Default)]
struct Utf8Stream {
    carry: Vec<u8>,
    invalid: bool,
}

impl Utf8Stream {
    fn push(&mut self, chunk: &[u8]) {
        if self.invalid {
            return;
        }
        let mut rest = chunk;
        // Finish the character the last piece ended inside, one byte at a time.
        while !self.carry.is_empty() {
            let Some((&byte, tail)) = rest.split_first() else { return };
            self.carry.push(byte);
            rest = tail;
            match std::str::from_utf8(&self.carry) {
                Ok(_) => self.carry.clear(),
                Err(e) if e.error_len().is_none() => {}
                Err(_) => {
                    self.invalid = true;
                    return;
                }
            }
        }
        match std::str::from_utf8(rest) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() => self.carry.extend_from_slice(&rest[e.valid_up_to()..]),
            Err(_) => self.invalid = true,
        }
    }

    fn is_complete(&self) -> bool {
        !self.invalid && self.carry.is_empty()
    }
}

/// Checks an upload's declared type against the accepted list and its bytes.
pub fn check(content_type: &str, bytes: &[u8]) -> Result<String, UploadRefusal> {
    let mut received = Received::default();
    received.push(bytes);
    check_received(content_type, &received)
}

/// Checks a file received in pieces: its declared type, its leading bytes and, for text
/// types, that all of it was UTF-8.
pub fn check_received(content_type: &str, received: &Received) -> Result<String, UploadRefusal> {
    let declared = essence(content_type);
    if !ACCEPTED_TYPES.contains(&declared.as_str()) {
        return Err(UploadRefusal::TypeNotAccepted(if declared.is_empty() { "(none)".into() } else { declared }));
    }
    if received.size == 0 {
        return Err(UploadRefusal::Empty);
    }
    let detected = infer::get(&received.head).map(|t| t.mime_type().to_owned());
    let textual = declared.starts_with("text/") || matches!(declared.as_str(), "application/json" | "application/xml" | "message/rfc822");
    let agrees = match detected.as_deref() {
        // Text formats have no signature: they must be UTF-8 text, not binary with a text label.
        _ if textual => received.is_utf8() && detected.as_deref().is_none_or(|d| d.starts_with("text/")),
        Some(d) if zip_based(&declared) => d == "application/zip" || d == declared,
        Some(d) if declared == "application/msword" || declared.starts_with("application/vnd.ms-") => {
            d == "application/x-ole-storage" || d == declared
        }
        Some(d) => d == declared,
        None => false,
    };
    if agrees { Ok(declared) } else { Err(UploadRefusal::ContentMismatch { declared, detected }) }
}

/// A file name safe to send back in `Content-Disposition`: no path, no control characters,
/// no quotes; at most 200 characters.
pub fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String =
        base.chars().filter(|c| !c.is_control() && !matches!(c, '"' | '\\' | ';')).take(200).collect::<String>().trim().to_owned();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') { "evidence".to_owned() } else { cleaned }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepted_files_pass() {
        assert_eq!(check("application/pdf", b"%PDF-1.7\n1 0 obj").as_deref(), Ok("application/pdf"));
        assert_eq!(check("text/plain; charset=utf-8", "Model card — v2".as_bytes()).as_deref(), Ok("text/plain"));
        assert!(check("image/png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").is_ok());
    }

    #[test]
    fn wrong_types_and_disguises_are_refused() {
        assert!(matches!(check("application/x-msdownload", b"MZ"), Err(UploadRefusal::TypeNotAccepted(_))));
        assert!(matches!(check("", b"x"), Err(UploadRefusal::TypeNotAccepted(_))));
        assert!(matches!(check("application/pdf", b"MZ\x90\0\x03\0\0\0"), Err(UploadRefusal::ContentMismatch { .. })));
        assert!(matches!(check("text/plain", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Err(UploadRefusal::ContentMismatch { .. })));
        assert_eq!(check("text/plain", b""), Err(UploadRefusal::Empty));
    }

    #[test]
    fn file_names_lose_paths_and_quotes() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\x\\report \"final\".pdf"), "report final.pdf");
        assert_eq!(safe_file_name(".."), "evidence");
    }

    proptest! {
        #[test]
        fn check_never_panics(ct in ".{0,40}", bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = check(&ct, &bytes);
        }

        #[test]
        fn utf8_in_pieces_agrees_with_utf8_whole(bytes in proptest::collection::vec(any::<u8>(), 0..64), text in ".{0,30}", cuts in proptest::collection::vec(0usize..80, 0..6)) {
            for whole in [bytes, text.into_bytes()] {
                let mut cuts: Vec<usize> = cuts.iter().map(|c| (*c).min(whole.len())).collect();
                cuts.sort_unstable();
                let mut received = Received::default();
                let mut start = 0;
                for cut in cuts.into_iter().chain([whole.len()]) {
                    received.push(&whole[start..cut]);
                    start = cut;
                }
                prop_assert_eq!(received.is_utf8(), std::str::from_utf8(&whole).is_ok());
                prop_assert_eq!(received.size, whole.len() as u64);
            }
        }

        #[test]
        fn safe_names_are_safe(name in ".{0,300}") {
            let safe = safe_file_name(&name);
            prop_assert!(!safe.is_empty() && safe.chars().count() <= 200);
            prop_assert!(!safe.contains(['/', '\\', '"', ';']) && !safe.chars().any(char::is_control));
        }
    }
}
