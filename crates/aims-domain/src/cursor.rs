//! Opaque list cursors. A cursor is the position (creation sequence) of the last item of the
//! previous page; clients must treat it as an opaque string.

const PREFIX: &str = "c1.";

/// Encodes the position after which the next page starts.
pub fn encode(after_seq: i64) -> String {
    format!("{PREFIX}{}", hex::encode(after_seq.to_be_bytes()))
}

/// What every cursor [`encode`] makes looks like (for the OpenAPI document).
pub const PATTERN: &str = "^c1\\.[0-7][0-9a-fA-F]{15}$";

/// Decodes a cursor made by [`encode`]; `None` for anything else.
pub fn decode(cursor: &str) -> Option<i64> {
    let hex_part = cursor.strip_prefix(PREFIX)?;
    let bytes: [u8; 8] = hex::decode(hex_part).ok()?.try_into().ok()?;
    let seq = i64::from_be_bytes(bytes);
    (seq >= 0).then_some(seq)
}

const SORTED_PREFIX: &str = "s1.";

/// Encodes the position after which the next page of a list in another order than creation
/// starts: the order's name (`-title`, `updated`) and the creation sequence of the last item.
/// The order is part of the cursor so that a cursor is never read in another order.
pub fn encode_sorted(sort: &str, after_seq: i64) -> String {
    format!("{SORTED_PREFIX}{}.{}", hex::encode(sort.as_bytes()), hex::encode(after_seq.to_be_bytes()))
}

/// Decodes a cursor made by [`encode_sorted`]: its order's name and position; `None` for
/// anything else.
pub fn decode_sorted(cursor: &str) -> Option<(String, i64)> {
    let (sort, seq) = cursor.strip_prefix(SORTED_PREFIX)?.split_once('.')?;
    let sort = String::from_utf8(hex::decode(sort).ok()?).ok()?;
    let bytes: [u8; 8] = hex::decode(seq).ok()?.try_into().ok()?;
    let seq = i64::from_be_bytes(bytes);
    (seq >= 0 && !sort.is_empty()).then_some((sort, seq))
}

/// Page size rules of the API: default 50, at most 200, at least 1.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trips(seq in 0i64..i64::MAX) {
            prop_assert_eq!(decode(&encode(seq)), Some(seq));
        }

        #[test]
        fn never_panics_on_garbage(text in ".*") {
            let _ = decode(&text);
            let _ = decode_sorted(&text);
        }

        #[test]
        fn sorted_cursors_round_trip(sort in "-?[a-z_.]{1,40}", seq in 0i64..i64::MAX) {
            prop_assert_eq!(decode_sorted(&encode_sorted(&sort, seq)), Some((sort.clone(), seq)));
            // Neither kind of cursor is taken for the other.
            prop_assert_eq!(decode(&encode_sorted(&sort, seq)), None);
            prop_assert_eq!(decode_sorted(&encode(seq)), None);
        }
    }

    #[test]
    fn rejects_foreign_text() {
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("c1.zz"), None);
        assert_eq!(decode(&format!("c1.{}", hex::encode((-5i64).to_be_bytes()))), None);
    }
}
