//! Content negotiation by `Accept` (RFC 9110 §12.5.1), as far as a thumbnail needs it: whether
//! a client names a media type outright. A wildcard (`*/*`, `image/*`) never counts, so a
//! client that says nothing specific keeps getting what it always got.

/// Whether the `Accept` header `values` name `media` itself with a q-value above 0, and never
/// with `q=0` (which excludes it, RFC 9110 §12.4.2). A range with a malformed q-value is
/// ignored.
pub fn names(values: &[&[u8]], media: &str) -> bool {
    let mut named = false;
    for range in values.iter().flat_map(|value| value.split(|&b| b == b',')) {
        let mut parts = range.split(|&b| b == b';');
        let kind = parts.next().map(trim).unwrap_or_default();
        if !kind.eq_ignore_ascii_case(media.as_bytes()) {
            continue;
        }
        let mut q = Some(1000);
        for parameter in parts.map(trim) {
            if let Some(value) = parameter
                .split_first_chunk::<2>()
                .filter(|(name, _)| name.eq_ignore_ascii_case(b"q="))
                .map(|(_, value)| value)
            {
                q = qvalue(value);
            }
        }
        match q {
            Some(0) => return false,
            Some(_) => named = true,
            None => {}
        }
    }
    named
}

/// A qvalue in thousandths: `0`, `1` or either with up to three decimals (`1` only with
/// zeros); `None` for anything else.
fn qvalue(text: &[u8]) -> Option<u16> {
    let (whole, fraction) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, &b""[..]),
    };
    if fraction.len() > 3 || !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let thousandths = fraction
        .iter()
        .chain(std::iter::repeat(&b'0'))
        .take(3)
        .fold(0, |n, digit| n * 10 + u16::from(digit - b'0'));
    match whole {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Without the spaces and tabs (OWS) around it.
fn trim(text: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = text.iter().position(|b| !is_space(b)).unwrap_or(text.len());
    let end = text
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    &text[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webp(values: &[&str]) -> bool {
        let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        names(&values, "image/webp")
    }

    #[test]
    fn a_type_named_outright_with_a_positive_q_is_accepted() {
        for accepted in [
            &["image/webp"][..],
            &["image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"],
            &["IMAGE/WebP;q=0.001"],
            &["text/html", " image/webp ; q=1.000 "],
            &["image/webp;q=0.5;level=1"],
            &["image/webp;Q=1."],
        ] {
            assert!(webp(accepted), "{accepted:?}");
        }
    }

    #[test]
    fn wildcards_zero_q_and_malformed_q_are_not() {
        for refused in [
            &[][..],
            &[""],
            &["*/*"],
            &["image/*"],
            &["image/*;q=1, */*"],
            &["image/webp;q=0"],
            &["image/webp;q=0.000"],
            &["image/webp, image/webp;q=0"],
            &["image/webp;q=0", "image/webp"],
            &["image/webp;q=2"],
            &["image/webp;q=1.5"],
            &["image/webp;q=0.0001"],
            &["image/webp;q="],
            &["image/webpx", "ximage/webp"],
            &["image/web"],
        ] {
            assert!(!webp(refused), "{refused:?}");
        }
    }

    #[test]
    fn qvalues_read_as_rfc_9110_writes_them() {
        assert_eq!(qvalue(b"0"), Some(0));
        assert_eq!(qvalue(b"0.5"), Some(500));
        assert_eq!(qvalue(b"0.123"), Some(123));
        assert_eq!(qvalue(b"1"), Some(1000));
        assert_eq!(qvalue(b"1.000"), Some(1000));
        for malformed in [&b""[..], b".5", b"1.001", b"01", b"0.1234", b"0.a", b"-0"] {
            assert_eq!(qvalue(malformed), None, "{malformed:?}");
        }
    }
}
