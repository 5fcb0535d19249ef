//! Splits a filter into tokens. Keywords (`and`, `eq`, `true`…) stay words:
//! whether `pr` is an operator or an attribute depends on where it stands,
//! which only the parser knows.

use serde_json::Number;

use super::filter::FilterError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// An attribute path or a keyword: letters, digits and `-_$:.`.
    Word(String),
    /// A JSON string, unescaped.
    Str(String),
    Num(Number),
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// The `.` between `]` and a sub-attribute.
    Dot,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    /// Byte offset in the input.
    pub at: usize,
}

impl Tok {
    /// How an error names this token: the client's own text, shortened.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Word(word) => format!("`{}`", shorten(word)),
            Tok::Str(_) => "a string".to_owned(),
            Tok::Num(_) => "a number".to_owned(),
            Tok::LParen => "`(`".to_owned(),
            Tok::RParen => "`)`".to_owned(),
            Tok::LBracket => "`[`".to_owned(),
            Tok::RBracket => "`]`".to_owned(),
            Tok::Dot => "`.`".to_owned(),
        }
    }

    /// Whether this is the keyword `keyword` (keywords are case-insensitive).
    pub(crate) fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Tok::Word(word) if word.eq_ignore_ascii_case(keyword))
    }
}

/// At most this many characters of a client's token are echoed in an error.
fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The 1-based column (in characters) of byte offset `at`, for errors.
pub(crate) fn column(input: &str, at: usize) -> usize {
    input.get(..at).map_or(at, |head| head.chars().count()) + 1
}

fn is_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'$' | b':' | b'.')
}

/// Tokenises `input` (whose length the caller has already bounded).
pub(crate) fn lex(input: &str) -> Result<Vec<Token>, FilterError> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let at = i;
        let single = match c {
            b'(' => Some(Tok::LParen),
            b')' => Some(Tok::RParen),
            b'[' => Some(Tok::LBracket),
            b']' => Some(Tok::RBracket),
            b'.' => Some(Tok::Dot),
            _ => None,
        };
        if let Some(tok) = single {
            tokens.push(Token { tok, at });
            i += 1;
        } else if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'"' {
            let (text, end) = lex_string(input, at)?;
            tokens.push(Token { tok: Tok::Str(text), at });
            i = end;
        } else if c == b'-' || c.is_ascii_digit() {
            // JSON numbers hold only these; anything else ends the number.
            let end = bytes[at..]
                .iter()
                .position(|b| !(b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')))
                .map_or(bytes.len(), |len| at + len);
            let number = parse_number(&input[at..end]).ok_or(FilterError::InvalidNumber { column: column(input, at) })?;
            tokens.push(Token { tok: Tok::Num(number), at });
            i = end;
        } else if c.is_ascii_alphabetic() || c == b'$' {
            let end = bytes[at..]
                .iter()
                .position(|&b| !is_word_char(b))
                .map_or(bytes.len(), |len| at + len);
            tokens.push(Token {
                tok: Tok::Word(input[at..end].to_owned()),
                at,
            });
            i = end;
        } else {
            let found = input[at..].chars().next().unwrap_or_default();
            return Err(FilterError::Unexpected {
                column: column(input, at),
                found: format!("character {found:?}"),
                expected: "an attribute, an operator, a value, `(`, `)`, `[` or `]`",
            });
        }
    }
    Ok(tokens)
}

/// A JSON number. serde_json checks the syntax, but without its
/// `float_roundtrip` feature may round a fraction one step off, so the
/// standard library, which rounds correctly, reads fractions.
fn parse_number(text: &str) -> Option<Number> {
    let number = text.parse::<Number>().ok()?;
    if number.is_f64() {
        Number::from_f64(text.parse::<f64>().ok()?)
    } else {
        Some(number)
    }
}

/// Reads the JSON string starting at `start` (a `"`); returns its value and
/// the byte offset after its closing quote.
fn lex_string(input: &str, start: usize) -> Result<(String, usize), FilterError> {
    let bytes = input.as_bytes();
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            // The escaped byte is never the closing quote; serde_json checks
            // the escape itself below.
            b'\\' => i += 2,
            b'"' => {
                let text = serde_json::from_str::<String>(&input[start..=i]).map_err(|_| FilterError::InvalidString {
                    column: column(input, start),
                })?;
                return Ok((text, i + 1));
            }
            _ => i += 1,
        }
    }
    Err(FilterError::UnterminatedString {
        column: column(input, start),
    })
}
