//! A small SQL tokenizer, enough to normalise statements and to find which column a bind
//! parameter belongs to. It never allocates: tokens borrow the statement text.

/// One token of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// A keyword or an unquoted identifier.
    Word(&'a str),
    /// A quoted identifier (`"name"`, `` `name` ``), without its quotes.
    Quoted(&'a str),
    /// A bind parameter: `?` or `$1`.
    Placeholder,
    /// A string literal, quotes included.
    Str(&'a str),
    /// A numeric literal.
    Number(&'a str),
    /// An operator or punctuation (`(`, `,`, `=`, `<=`, `::`...).
    Punct(&'a str),
}

impl<'a> Token<'a> {
    /// The identifier this token names, if it is one (keywords included).
    pub(crate) fn ident(self) -> Option<&'a str> {
        match self {
            Token::Word(w) | Token::Quoted(w) => Some(w),
            _ => None,
        }
    }

    /// True when this is the keyword `kw` (case-insensitive).
    pub(crate) fn is_keyword(self, kw: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    /// True when this is the punctuation `p`.
    pub(crate) fn is_punct(self, p: &str) -> bool {
        matches!(self, Token::Punct(q) if q == p)
    }
}

/// The tokens of `sql`, comments and whitespace skipped.
pub(crate) fn tokens(sql: &str) -> Tokens<'_> {
    Tokens {
        sql,
        pos: 0,
        gap: false,
    }
}

/// The tokens of `sql`, each with whether whitespace or a comment came before it.
pub(crate) fn spaced_tokens(sql: &str) -> impl Iterator<Item = (bool, Token<'_>)> {
    let mut toks = tokens(sql);
    std::iter::from_fn(move || toks.next().map(|t| (toks.gap, t)))
}

/// Iterator over the tokens of a statement.
pub(crate) struct Tokens<'a> {
    sql: &'a str,
    pos: usize,
    /// Whether the last token returned had whitespace or a comment before it.
    gap: bool,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let bytes = self.sql.as_bytes();
        let before = self.pos;
        loop {
            while self.pos < bytes.len() && bytes[self.pos].is_ascii_whitespace() {
                self.pos += 1;
            }
            if bytes[self.pos..].starts_with(b"--") {
                self.pos = find_from(bytes, self.pos, b'\n').map_or(bytes.len(), |i| i + 1);
            } else if bytes[self.pos..].starts_with(b"/*") {
                self.pos = find_pair(bytes, self.pos + 2, b"*/").map_or(bytes.len(), |i| i + 2);
            } else {
                break;
            }
        }
        let start = self.pos;
        self.gap = start > before;
        let &first = bytes.get(start)?;
        let next_is_digit = bytes.get(start + 1).is_some_and(u8::is_ascii_digit);
        let (end, kind): (usize, fn(&'a str) -> Token<'a>) = match first {
            b'\'' => (quoted_end(bytes, start, b'\''), Token::Str),
            b'"' | b'`' => (quoted_end(bytes, start, first), |t| {
                Token::Quoted(unquote(t))
            }),
            b'?' => (start + 1, |_| Token::Placeholder),
            b'$' if next_is_digit => (scan(bytes, start + 1, |b| b.is_ascii_digit()), |_| {
                Token::Placeholder
            }),
            b'0'..=b'9' => (number_end(bytes, start), Token::Number),
            b'.' if next_is_digit => (number_end(bytes, start), Token::Number),
            b if is_word_byte(b) => (scan(bytes, start, is_word_byte), Token::Word),
            _ => (punct_end(bytes, start), Token::Punct),
        };
        // Clamp to the text and to a character boundary (a malformed tail is one token).
        let mut end = end.min(bytes.len());
        while !self.sql.is_char_boundary(end) {
            end += 1;
        }
        self.pos = end;
        Some(kind(&self.sql[start..end]))
    }
}

/// Letters, digits, `_` and non-ASCII bytes (UTF-8 identifiers) make words.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn scan(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    let mut i = from;
    while i < bytes.len() && keep(bytes[i]) {
        i += 1;
    }
    i
}

fn find_from(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    bytes[from..]
        .iter()
        .position(|&b| b == needle)
        .map(|i| i + from)
}

fn find_pair(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(2)
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// End of a quoted token starting at `start`; a doubled quote is an escaped one. An
/// unterminated quote runs to the end of the text.
fn quoted_end(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        // MySQL allows backslash escapes in string literals.
        if bytes[i] == b'\\' && quote == b'\'' {
            i += 2;
            continue;
        }
        i += 1;
    }
    bytes.len()
}

fn number_end(bytes: &[u8], start: usize) -> usize {
    let mut i = scan(bytes, start, |b| b.is_ascii_digit() || b == b'.');
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
        if bytes.get(i + 1 + sign).is_some_and(u8::is_ascii_digit) {
            i = scan(bytes, i + 1 + sign, |b| b.is_ascii_digit());
        }
    }
    i
}

fn punct_end(bytes: &[u8], start: usize) -> usize {
    const TWO: [&[u8]; 7] = [b"<=", b">=", b"<>", b"!=", b"::", b"||", b"->"];
    if TWO.iter().any(|p| bytes[start..].starts_with(p)) {
        start + 2
    } else {
        // One character, whole (the text is UTF-8; a multi-byte character is one token).
        start + utf8_len(bytes[start])
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// `"a""b"` → `a""b` (the doubled quote is kept: the name is only compared, never shown).
fn unquote(text: &str) -> &str {
    let inner = &text[1..];
    inner.strip_suffix(['"', '`']).unwrap_or(inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(sql: &str) -> Vec<Token<'_>> {
        tokens(sql).collect()
    }

    #[test]
    fn splits_a_diesel_select() {
        use Token::*;
        assert_eq!(
            all(r#"SELECT "users"."id" FROM "users" WHERE ("users"."id" = $1) LIMIT $2"#),
            vec![
                Word("SELECT"),
                Quoted("users"),
                Punct("."),
                Quoted("id"),
                Word("FROM"),
                Quoted("users"),
                Word("WHERE"),
                Punct("("),
                Quoted("users"),
                Punct("."),
                Quoted("id"),
                Punct("="),
                Placeholder,
                Punct(")"),
                Word("LIMIT"),
                Placeholder,
            ]
        );
    }

    #[test]
    fn literals_comments_and_operators() {
        use Token::*;
        assert_eq!(
            all("-- note\nSELECT 'it''s', 1.5e3, x<=? /* c */ FROM `t` WHERE a::text <> 'b\\'c'"),
            vec![
                Word("SELECT"),
                Str("'it''s'"),
                Punct(","),
                Number("1.5e3"),
                Punct(","),
                Word("x"),
                Punct("<="),
                Placeholder,
                Word("FROM"),
                Quoted("t"),
                Word("WHERE"),
                Word("a"),
                Punct("::"),
                Word("text"),
                Punct("<>"),
                Str("'b\\'c'"),
            ]
        );
    }

    #[test]
    fn odd_input_does_not_panic() {
        for sql in [
            "'unterminated",
            "\"x",
            "$",
            "$x",
            ".",
            "é = ?",
            "/* open",
            "--",
            "",
            "€",
        ] {
            let _ = all(sql);
        }
        assert_eq!(
            all("a.b"),
            vec![Token::Word("a"), Token::Punct("."), Token::Word("b")]
        );
        assert_eq!(all(".5"), vec![Token::Number(".5")]);
    }
}
