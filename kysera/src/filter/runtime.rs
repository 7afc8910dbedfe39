//! [`Filter`]: a filter that arrives as data (a query string, a CLI flag, an admin tool),
//! naming columns by string. It is checked against the model's columns before it becomes SQL.

use serde_json::Value;

/// A comparison of a column with one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `=` (`IS NULL` for null).
    Eq,
    /// `<>`, NULL-aware: a NULL column differs from every value, and `ne null` is `IS NOT NULL`.
    Ne,
    /// `>`.
    Gt,
    /// `>=`.
    Gte,
    /// `<`.
    Lt,
    /// `<=`.
    Lte,
}

/// A text match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMatch {
    /// `LIKE` with the caller's own `%` and `_` wildcards, with the backend's case rules
    /// (PostgreSQL: case-sensitive; SQLite: ASCII case-insensitive; MySQL: the collation's).
    Like,
    /// `LIKE` ignoring case on every backend.
    ILike,
    /// The text appears anywhere (wildcards in it are matched literally).
    Contains,
    /// The text is a prefix (wildcards matched literally).
    StartsWith,
    /// The text is a suffix (wildcards matched literally).
    EndsWith,
}

/// A filter on a model's columns, named by string.
///
/// ```
/// use kysera::Filter;
/// let adults_named_a = Filter::gte("age", 18).and(Filter::starts_with("name", "A"));
/// let same = Filter::from_json(&serde_json::json!({"age": {"$gte": 18}, "name": {"$startsWith": "A"}}))?;
/// assert_eq!(adults_named_a, same);
/// # Ok::<(), kysera::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `column <op> value`.
    Compare {
        /// The column.
        column: String,
        /// The comparison.
        op: Comparison,
        /// The value (JSON, read with the column's type).
        value: Value,
    },
    /// `column [NOT] IN (values)`: an empty `IN` matches nothing, an empty `NOT IN`
    /// everything; `NOT IN` keeps NULLs (they are in no list).
    In {
        /// The column.
        column: String,
        /// The values.
        values: Vec<Value>,
        /// `NOT IN`.
        negated: bool,
    },
    /// A text match on a text column.
    Text {
        /// The column.
        column: String,
        /// How to match.
        op: TextMatch,
        /// The pattern (`Like`, `ILike`) or the text.
        text: String,
    },
    /// `column IS [NOT] NULL`.
    IsNull {
        /// The column.
        column: String,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `column BETWEEN low AND high` (both ends included).
    Between {
        /// The column.
        column: String,
        /// The lower end.
        low: Value,
        /// The upper end.
        high: Value,
    },
    /// Every filter holds (no filters: every row).
    And(Vec<Filter>),
    /// At least one filter holds (no filters: no row).
    Or(Vec<Filter>),
    /// The filter does not hold.
    Not(Box<Filter>),
}

macro_rules! comparisons {
    ($($name:ident => $op:ident, $doc:literal;)*) => {$(
        #[doc = $doc]
        pub fn $name(column: impl Into<String>, value: impl Into<Value>) -> Self {
            Filter::Compare { column: column.into(), op: Comparison::$op, value: value.into() }
        }
    )*};
}

macro_rules! text_matches {
    ($($name:ident => $op:ident, $doc:literal;)*) => {$(
        #[doc = $doc]
        pub fn $name(column: impl Into<String>, text: impl Into<String>) -> Self {
            Filter::Text { column: column.into(), op: TextMatch::$op, text: text.into() }
        }
    )*};
}

impl Filter {
    comparisons! {
        eq => Eq, "`column = value` (`IS NULL` for null).";
        ne => Ne, "`column <> value`, NULL-aware (see [`Comparison::Ne`]).";
        gt => Gt, "`column > value`.";
        gte => Gte, "`column >= value`.";
        lt => Lt, "`column < value`.";
        lte => Lte, "`column <= value`.";
    }

    text_matches! {
        like => Like, "`column LIKE pattern` (see [`TextMatch::Like`]).";
        ilike => ILike, "`column LIKE pattern`, ignoring case.";
        contains => Contains, "The column contains `text`.";
        starts_with => StartsWith, "The column starts with `text`.";
        ends_with => EndsWith, "The column ends with `text`.";
    }

    /// `column IN (values)`.
    pub fn is_in<V: Into<Value>>(
        column: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        Filter::In {
            column: column.into(),
            values: values.into_iter().map(Into::into).collect(),
            negated: false,
        }
    }

    /// `column NOT IN (values)`.
    pub fn not_in<V: Into<Value>>(
        column: impl Into<String>,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        match Filter::is_in(column, values) {
            Filter::In { column, values, .. } => Filter::In {
                column,
                values,
                negated: true,
            },
            _ => unreachable!("is_in builds an In"),
        }
    }

    /// `column IS NULL`.
    pub fn is_null(column: impl Into<String>) -> Self {
        Filter::IsNull {
            column: column.into(),
            negated: false,
        }
    }

    /// `column IS NOT NULL`.
    pub fn is_not_null(column: impl Into<String>) -> Self {
        Filter::IsNull {
            column: column.into(),
            negated: true,
        }
    }

    /// `column BETWEEN low AND high`.
    pub fn between(
        column: impl Into<String>,
        low: impl Into<Value>,
        high: impl Into<Value>,
    ) -> Self {
        Filter::Between {
            column: column.into(),
            low: low.into(),
            high: high.into(),
        }
    }

    /// Both filters (flattening nested `And`s).
    pub fn and(self, other: Filter) -> Self {
        match self {
            Filter::And(mut all) => {
                all.push(other);
                Filter::And(all)
            }
            first => Filter::And(vec![first, other]),
        }
    }

    /// Either filter (flattening nested `Or`s).
    pub fn or(self, other: Filter) -> Self {
        match self {
            Filter::Or(mut any) => {
                any.push(other);
                Filter::Or(any)
            }
            first => Filter::Or(vec![first, other]),
        }
    }
}

/// `!filter`: the opposite filter.
impl std::ops::Not for Filter {
    type Output = Filter;
    fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }
}
