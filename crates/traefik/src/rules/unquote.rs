//! Go string literals: raw and interpreted, unquoted with Go's escapes, with a map back to source columns.

/// An interpreted-string problem: code, byte range of the offending part, message.
pub(crate) struct Unquote {
    pub(crate) code: &'static str,
    pub(crate) at: usize,
    pub(crate) end: usize,
    pub(crate) message: String,
}

/// Reads the Go interpreted string literal starting at `src[start] == '"'`: its value and the end of the literal.
/// With `map`, records for each byte of the value the offset in `src` it came from. Escapes that do not form
/// valid UTF-8 (`"/\xff"`) are kept by Go as raw bytes, and Traefik accepts them where it does not check for
/// ASCII; here each invalid sequence reads as U+FFFD ([`literal_is_utf8`] tells them apart).
pub(crate) fn unquote_interpreted(
    src: &str,
    start: usize,
    mut map: Option<&mut Vec<usize>>,
) -> Result<(String, usize), Unquote> {
    let (bytes, end) = unquote_bytes(src, start, map.as_deref_mut())?;
    match String::from_utf8(bytes) {
        Ok(value) => Ok((value, end)),
        Err(e) => {
            let bytes = e.into_bytes();
            if let Some(map) = map {
                let byte_map = std::mem::take(map);
                let mut at = 0;
                for chunk in bytes.utf8_chunks() {
                    map.extend_from_slice(&byte_map[at..at + chunk.valid().len()]);
                    at += chunk.valid().len();
                    if !chunk.invalid().is_empty() {
                        map.extend(std::iter::repeat_n(byte_map[at], char::REPLACEMENT_CHARACTER.len_utf8()));
                        at += chunk.invalid().len();
                    }
                }
            }
            Ok((String::from_utf8_lossy(&bytes).into_owned(), end))
        }
    }
}

/// Whether the literal at `span` (raw or interpreted) has a valid UTF-8 value: Go's regexp refuses a pattern
/// that is not ("invalid UTF-8").
pub(crate) fn literal_is_utf8(src: &str, span: (usize, usize)) -> bool {
    if !src[span.0..].starts_with('"') {
        return true;
    }
    unquote_bytes(src, span.0, None).is_ok_and(|(bytes, _)| std::str::from_utf8(&bytes).is_ok())
}

/// The bytes of the Go interpreted string literal starting at `src[start]`, and the end of the literal.
fn unquote_bytes(src: &str, start: usize, mut map: Option<&mut Vec<usize>>) -> Result<(Vec<u8>, usize), Unquote> {
    let bytes = src.as_bytes();
    let mut out: Vec<u8> = Vec::new();
    let mut i = start + 1;
    let unterminated = |end: usize| Unquote {
        code: "SY3110",
        at: start,
        end,
        message: "string not terminated; close it with `\"` on the same line, or use backticks for a multi-line value"
            .to_string(),
    };
    loop {
        let Some(&b) = bytes.get(i) else { return Err(unterminated(src.len())) };
        match b {
            b'"' => break,
            b'\n' => return Err(unterminated(i)),
            b'\\' => {
                let esc = i;
                let bad = |end: usize, what: &str| Unquote {
                    code: "SY3111",
                    at: esc,
                    end,
                    message: format!(
                        "{what} `{}`; Go strings know \\n \\t \\\\ \\\" \\xNN \\uNNNN \\UNNNNNNNN \\NNN (octal) \\a \\b \\f \\r \\v",
                        src.get(esc..end).unwrap_or("\\")
                    ),
                };
                let Some(&e) = bytes.get(i + 1) else { return Err(unterminated(src.len())) };
                let simple = match e {
                    b'a' => Some(0x07),
                    b'b' => Some(0x08),
                    b'f' => Some(0x0C),
                    b'n' => Some(b'\n'),
                    b'r' => Some(b'\r'),
                    b't' => Some(b'\t'),
                    b'v' => Some(0x0B),
                    b'\\' => Some(b'\\'),
                    b'"' => Some(b'"'),
                    _ => None,
                };
                let (produced, next): (Vec<u8>, usize) = if let Some(v) = simple {
                    (vec![v], i + 2)
                } else if e.is_ascii_digit() && e < b'8' {
                    let digits = src.get(i + 1..i + 4).filter(|d| d.bytes().all(|d| (b'0'..=b'7').contains(&d)));
                    let Some(digits) = digits else {
                        return Err(bad(i + 2, "invalid octal escape (needs three digits 0-7)"));
                    };
                    let value = digits.bytes().fold(0u32, |n, d| n * 8 + u32::from(d - b'0'));
                    let Ok(byte) = u8::try_from(value) else {
                        return Err(bad(i + 4, "octal escape value above 255 (\\377)"));
                    };
                    (vec![byte], i + 4)
                } else if matches!(e, b'x' | b'u' | b'U') {
                    let n = match e {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let digits = src.get(i + 2..i + 2 + n).filter(|d| d.bytes().all(|d| d.is_ascii_hexdigit()));
                    let Some(digits) = digits else {
                        return Err(bad(i + 2, &format!("invalid hex escape (needs {n} hex digits)")));
                    };
                    let value = u32::from_str_radix(digits, 16).unwrap_or(u32::MAX);
                    if e == b'x' {
                        (vec![u8::try_from(value).unwrap_or(0)], i + 4)
                    } else {
                        let Some(c) = char::from_u32(value) else {
                            return Err(bad(i + 2 + n, "escape is not a valid Unicode code point"));
                        };
                        (c.to_string().into_bytes(), i + 2 + n)
                    }
                } else {
                    let len = src[i + 1..].chars().next().map_or(1, char::len_utf8);
                    return Err(bad(i + 1 + len, "unknown escape sequence"));
                };
                if let Some(map) = map.as_deref_mut() {
                    map.extend(std::iter::repeat_n(esc, produced.len()));
                }
                out.extend(produced);
                i = next;
            }
            0 => {
                return Err(Unquote {
                    code: "SY3101",
                    at: i,
                    end: i + 1,
                    message: "illegal character NUL in a string; write it as \\x00".to_string(),
                });
            }
            _ => {
                let len = src[i..].chars().next().map_or(1, char::len_utf8);
                if src[i..].starts_with('\u{feff}') {
                    return Err(Unquote {
                        code: "SY3101",
                        at: i,
                        end: i + len,
                        message: "illegal byte order mark in a string; write it as \\uFEFF".to_string(),
                    });
                }
                if let Some(map) = map.as_deref_mut() {
                    map.extend(std::iter::repeat_n(i, len));
                }
                out.extend_from_slice(&bytes[i..i + len]);
                i += len;
            }
        }
    }
    Ok((out, i + 1))
}

/// Byte offset in the rule of byte `value_at` of the value of the literal at `span`.
pub(crate) fn source_offset(src: &str, span: (usize, usize), value_at: usize) -> usize {
    if src[span.0..].starts_with('"') {
        let mut map = Vec::new();
        if unquote_interpreted(src, span.0, Some(&mut map)).is_ok() {
            return map.get(value_at).copied().unwrap_or(span.1.saturating_sub(1));
        }
        return span.0;
    }
    // Raw string: the value is the body without carriage returns.
    let mut seen = 0;
    for (i, c) in src[span.0 + 1..span.1 - 1].char_indices() {
        if c == '\r' {
            continue;
        }
        if seen >= value_at {
            return span.0 + 1 + i;
        }
        seen += c.len_utf8();
    }
    span.1 - 1
}
