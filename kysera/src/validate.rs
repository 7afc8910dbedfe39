//! Field validation: the rules `#[kysera(validate(...))]` generates calls to, and the error
//! that lists every failing field at once.

use std::fmt;
use std::sync::OnceLock;

use serde::Serialize;

/// A value that can check itself against its field rules.
///
/// Generated for the model, its Create struct and its Update struct.
pub trait Validate {
    /// Checks every field; returns all failures together.
    fn validate(&self) -> Result<(), ValidationErrors>;
}

/// One failing field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Name of the struct field.
    pub field: &'static str,
    /// Rule that failed: `email`, `url`, `length`, `range`, `regex`, `non_empty` or `custom`.
    pub rule: &'static str,
    /// Human-readable explanation.
    pub message: String,
}

/// Every failing field of one value. Serialises to JSON as `{"errors": [...]}`.
///
/// ```
/// use kysera::validate::{FieldError, ValidationErrors};
/// let mut errors = ValidationErrors::default();
/// errors.push(FieldError { field: "email", rule: "email", message: "not an email address".into() });
/// assert_eq!(
///     serde_json::to_string(&errors).unwrap(),
///     r#"{"errors":[{"field":"email","rule":"email","message":"not an email address"}]}"#
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidationErrors {
    /// The failures, in field order.
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    /// Records one failure.
    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// Number of failures.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// True when nothing failed.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok(())` when empty, the errors otherwise.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// Failures of one field.
    pub fn for_field<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a FieldError> + 'a {
        self.errors.iter().filter(move |e| e.field == field)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "validation failed: ")?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// When rows read back from the database are validated. Input is always validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidationMode {
    /// Validate every row read.
    Always,
    /// Validate rows read in debug builds only (the default).
    Debug,
    /// Never validate rows read.
    Never,
}

impl ValidationMode {
    /// Parses `always`, `debug` or `never` (case-insensitive).
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "always" | "strict" => Some(ValidationMode::Always),
            "debug" | "development" => Some(ValidationMode::Debug),
            "never" | "none" | "off" => Some(ValidationMode::Never),
            _ => None,
        }
    }

    /// The mode named by `KYSERA_VALIDATION_MODE`, read once per process; `Debug` when unset
    /// or unrecognised.
    pub fn from_env() -> Self {
        static MODE: OnceLock<ValidationMode> = OnceLock::new();
        *MODE.get_or_init(|| {
            std::env::var("KYSERA_VALIDATION_MODE")
                .ok()
                .and_then(|v| ValidationMode::parse(&v))
                .unwrap_or(ValidationMode::Debug)
        })
    }

    /// True when rows read back should be validated under this mode in this build.
    pub fn validates_reads(self) -> bool {
        match self {
            ValidationMode::Always => true,
            ValidationMode::Debug => cfg!(debug_assertions),
            ValidationMode::Never => false,
        }
    }
}

/// The rule functions generated code calls. Each pushes a [`FieldError`] on failure.
pub mod rules {
    use super::{FieldError, ValidationErrors};

    /// Text that can be validated (`String`, `&str`).
    pub trait AsText {
        /// The text.
        fn as_text(&self) -> &str;
    }
    impl AsText for String {
        fn as_text(&self) -> &str {
            self
        }
    }
    impl AsText for str {
        fn as_text(&self) -> &str {
            self
        }
    }
    impl<T: AsText + ?Sized> AsText for &T {
        fn as_text(&self) -> &str {
            (**self).as_text()
        }
    }

    /// Something with a length: text (counted in characters) or a collection.
    pub trait HasLength {
        /// Length in characters for text, elements for collections.
        fn length(&self) -> usize;
    }
    impl HasLength for String {
        fn length(&self) -> usize {
            self.chars().count()
        }
    }
    impl HasLength for str {
        fn length(&self) -> usize {
            self.chars().count()
        }
    }
    impl<T> HasLength for Vec<T> {
        fn length(&self) -> usize {
            self.len()
        }
    }
    impl<T: HasLength + ?Sized> HasLength for &T {
        fn length(&self) -> usize {
            (**self).length()
        }
    }

    fn fail(
        errors: &mut ValidationErrors,
        field: &'static str,
        rule: &'static str,
        message: String,
    ) {
        errors.push(FieldError {
            field,
            rule,
            message,
        });
    }

    /// `email`: an address as web forms accept it: the WHATWG `<input type=email>` grammar
    /// (ASCII local part without leading, trailing or doubled dots; hostname labels of letters,
    /// digits and inner hyphens), with at least two labels and an alphabetic top-level domain,
    /// at most 64 characters before the `@` and 254 in all.
    pub fn email<T: AsText + ?Sized>(
        value: &T,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) {
        let text = value.as_text();
        if !is_email(text) {
            fail(
                errors,
                field,
                "email",
                format!("`{text}` is not a valid email address"),
            );
        }
    }

    /// The check behind [`email`]: a hand-written scanner, because this runs for every row of
    /// every insert and a general parser costs more than the insert's own bookkeeping.
    pub fn is_email(text: &str) -> bool {
        let Some((local, domain)) = text.rsplit_once('@') else {
            return false;
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b));
        if !local_ok || text.len() > 254 {
            return false;
        }
        let mut labels = 0;
        let mut last = "";
        for label in domain.split('.') {
            let bytes = label.as_bytes();
            let label_ok = !bytes.is_empty()
                && bytes.len() <= 63
                && bytes[0] != b'-'
                && bytes[bytes.len() - 1] != b'-'
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-');
            if !label_ok {
                return false;
            }
            labels += 1;
            last = label;
        }
        labels >= 2 && last.len() >= 2 && last.bytes().all(|b| b.is_ascii_alphabetic())
    }

    /// `url`: an absolute URL.
    pub fn url<T: AsText + ?Sized>(value: &T, field: &'static str, errors: &mut ValidationErrors) {
        let text = value.as_text();
        if url::Url::parse(text).is_err() {
            fail(errors, field, "url", format!("`{text}` is not a valid URL"));
        }
    }

    /// `length(min, max)`: length within bounds (characters for text).
    pub fn length<T: HasLength + ?Sized>(
        value: &T,
        min: Option<usize>,
        max: Option<usize>,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) {
        let len = value.length();
        let too_short = min.is_some_and(|m| len < m);
        let too_long = max.is_some_and(|m| len > m);
        if too_short || too_long {
            let bounds = match (min, max) {
                (Some(a), Some(b)) => format!("between {a} and {b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => unreachable!("a length rule has at least one bound"),
            };
            fail(
                errors,
                field,
                "length",
                format!("length must be {bounds}, got {len}"),
            );
        }
    }

    /// `range(min, max)`: a number within bounds (inclusive).
    pub fn range<T: PartialOrd + std::fmt::Display>(
        value: &T,
        min: Option<T>,
        max: Option<T>,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) {
        let below = min.as_ref().is_some_and(|m| value < m);
        let above = max.as_ref().is_some_and(|m| value > m);
        if below || above {
            let bounds = match (&min, &max) {
                (Some(a), Some(b)) => format!("between {a} and {b}"),
                (Some(a), None) => format!("at least {a}"),
                (None, Some(b)) => format!("at most {b}"),
                (None, None) => unreachable!("a range rule has at least one bound"),
            };
            fail(
                errors,
                field,
                "range",
                format!("must be {bounds}, got {value}"),
            );
        }
    }

    /// `regex = "..."`: the value matches the pattern (compiled once per field; anchor it with
    /// `^...$` to match the whole value).
    pub fn regex<T: AsText + ?Sized>(
        value: &T,
        pattern: &regex::Regex,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) {
        if !pattern.is_match(value.as_text()) {
            fail(
                errors,
                field,
                "regex",
                format!("does not match the pattern `{}`", pattern.as_str()),
            );
        }
    }

    /// `non_empty`: text with at least one non-whitespace character, or a non-empty collection.
    pub fn non_empty<T: HasLength + NonEmptyText + ?Sized>(
        value: &T,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) {
        if value.is_blank() {
            fail(errors, field, "non_empty", "must not be empty".to_string());
        }
    }

    /// Blankness for `non_empty`: whitespace-only text counts as empty.
    pub trait NonEmptyText {
        /// True when empty or only whitespace.
        fn is_blank(&self) -> bool;
    }
    impl NonEmptyText for String {
        fn is_blank(&self) -> bool {
            self.trim().is_empty()
        }
    }
    impl NonEmptyText for str {
        fn is_blank(&self) -> bool {
            self.trim().is_empty()
        }
    }
    impl<T> NonEmptyText for Vec<T> {
        fn is_blank(&self) -> bool {
            self.is_empty()
        }
    }
    impl<T: NonEmptyText + ?Sized> NonEmptyText for &T {
        fn is_blank(&self) -> bool {
            (**self).is_blank()
        }
    }

    /// `custom = path`: calls a user function returning `Result<(), String>`.
    pub fn custom<T: ?Sized>(
        value: &T,
        check: fn(&T) -> Result<(), String>,
        field: &'static str,
        errors: &mut ValidationErrors,
    ) {
        if let Err(message) = check(value) {
            fail(errors, field, "custom", message);
        }
    }

    /// Compiles a `regex = "..."` pattern.
    pub fn compile(pattern: &str) -> regex::Regex {
        // The derive parses the pattern at compile time, so failure here is a kysera bug.
        regex::Regex::new(pattern).expect("pattern checked by the derive")
    }
}

#[cfg(test)]
mod tests {
    use super::rules::is_email;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "ada@example.com",
            "a.b+tag@sub.example.co.uk",
            "x_y-z@a-b.io",
            "o'neil@example.org",
            "1@2.example.com",
        ] {
            assert!(is_email(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a@example.c",
            "a@example.123",
            ".a@example.com",
            "a.@example.com",
            "a..b@example.com",
            "a b@example.com",
            "a@-example.com",
            "a@example-.com",
            "a@exa_mple.com",
            "a@example..com",
            "ü@example.com",
            "a@b@example.com",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(!is_email(&long_local));
    }
}
