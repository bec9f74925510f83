//! What text a party may send: identifiers from one small documented set, and free text
//! without control, bidirectional or invisible characters.
//!
//! Every id a party chooses (asset ids, filing ids) ends up on another party's screen, in an
//! audit entry or in a URL. An id that looks like another (`A1` and `A1` followed by a
//! zero-width space), one that reorders what is printed after it (U+202E), or one that carries
//! a terminal escape is an attack on the reader, so ids are refused unless every character
//! is in [`ID_CHARS`], and free text is refused if it holds a [`hidden`] character.

/// The characters an id may hold, as documented in `docs/api.md`: ASCII letters and digits
/// and `.` `_` `-` `:` `~` `@` (all unreserved or safe in a URL path segment).
pub const ID_CHARS: &str = "A-Z a-z 0-9 . _ - : ~ @";

/// Whether `c` may appear in an id (see [`ID_CHARS`]).
pub fn id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '~' | '@')
}

/// Checks an id: 1 to `max_len` bytes, each character in [`ID_CHARS`]. The error says what is
/// wrong and names the first bad character by code point.
pub fn check_id(s: &str, max_len: usize) -> Result<(), String> {
    if s.is_empty() {
        return Err("empty: an id must not be empty".into());
    }
    if s.len() > max_len {
        return Err(format!("too long: at most {max_len} bytes"));
    }
    if let Some((i, c)) = s.char_indices().find(|(_, c)| !id_char(*c)) {
        return Err(format!(
            "bad character U+{:04X} at byte {i}: ids are 1 to {max_len} of {ID_CHARS}",
            c as u32
        ));
    }
    Ok(())
}

/// Whether `c` is a control character (Unicode category Cc: C0, DEL, C1) or an invisible
/// format character (category Cf: bidirectional embeddings, overrides and isolates, marks,
/// zero-width spaces and joiners, the word joiner and invisible operators, the byte order
/// mark, interlinear annotation, tags, the soft hyphen and the Arabic/Syriac format marks).
pub fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F)
}

/// Checks free text (a purpose, a constraint type, a message): at most `max_len` bytes and no
/// [`hidden`] character; a line feed is allowed where `multiline` is set.
pub fn check_text(s: &str, max_len: usize, multiline: bool) -> Result<(), String> {
    if s.len() > max_len {
        return Err(format!("too long: at most {max_len} bytes"));
    }
    if let Some((i, c)) = s
        .char_indices()
        .find(|(_, c)| hidden(*c) && !(multiline && *c == '\n'))
    {
        return Err(format!(
            "bad character U+{:04X} at byte {i}: control, bidirectional and invisible characters are not allowed",
            c as u32
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_the_documented_set_pass() {
        for ok in ["A1", "COAL-F16-01", "4ca7b3", "uid.1:2~x@y", "a_b"] {
            assert_eq!(check_id(ok, 64), Ok(()), "{ok}");
        }
    }

    #[test]
    fn spaces_invisible_and_reordering_ids_are_refused() {
        for bad in [
            "",
            " ",
            "a b",
            "a\u{200B}",
            "\u{202E}a",
            "\u{FEFF}a",
            "a\0",
            "a\u{1b}[31m",
            "a/b",
            "a%2F",
            "a\u{0430}", // Cyrillic a
            "a?b",
            "a#b",
        ] {
            assert!(check_id(bad, 64).is_err(), "{bad:?}");
        }
        assert!(check_id(&"a".repeat(65), 64).unwrap_err().starts_with("too long"));
        let e = check_id("x\u{202E}", 64).unwrap_err();
        assert!(e.contains("U+202E"), "{e}");
    }

    #[test]
    fn free_text_refuses_controls_bidi_and_invisible_characters() {
        assert_eq!(check_text("Ops north of Latakia, 2–4 km", 256, false), Ok(()));
        assert_eq!(check_text("Люди, ناس, 人", 256, false), Ok(()));
        for bad in [
            "a\0b",
            "\u{1b}[2J",
            "a\u{202E}b",
            "\u{2066}x",
            "\u{200D}",
            "\u{FEFF}",
            "\u{E0041}",
            "a\u{85}",
        ] {
            assert!(check_text(bad, 256, false).is_err(), "{bad:?}");
        }
        assert!(check_text("two\nlines", 256, false).is_err());
        assert_eq!(check_text("two\nlines", 256, true), Ok(()));
        assert!(check_text("tab\there", 256, true).is_err());
        assert!(check_text(&"x".repeat(257), 256, false).is_err());
    }
}
