//! [`Filter::from_json`]: the JSON operator object of the spec.
//!
//! ```json
//! {"age": {"$gte": 18}, "status": "active", "deleted_at": null,
//!  "$or": [{"role": {"$in": ["admin", "owner"]}}, {"name": {"$startsWith": "A"}}]}
//! ```
//!
//! Keys of an object are ANDed. A column maps to a value (equality; `null` is `IS NULL`) or
//! to an object of operators: `$eq $ne $gt $gte $lt $lte $in $nin $like $ilike $contains
//! $startsWith $endsWith $isNull $between`. `$and` and `$or` take arrays of such objects,
//! `$not` one object.

use serde_json::{Map, Value};

use super::runtime::{Comparison, Filter, TextMatch};
use crate::error::{Error, Result};

impl Filter {
    /// Reads the spec's JSON operator object; a malformed one is [`Error::InvalidFilter`]
    /// saying where. Column names are checked later, against the model the filter is used on.
    pub fn from_json(value: &Value) -> Result<Filter> {
        parse_object(value, "$")
    }
}

fn invalid(path: &str, message: impl std::fmt::Display) -> Error {
    Error::InvalidFilter(format!("{path}: {message}"))
}

fn parse_object(value: &Value, path: &str) -> Result<Filter> {
    let object = value
        .as_object()
        .ok_or_else(|| invalid(path, format!("expected an object, got {value}")))?;
    let mut all = Vec::with_capacity(object.len());
    for (key, value) in object {
        let here = format!("{path}.{key}");
        all.push(match key.as_str() {
            "$and" => Filter::And(parse_list(value, &here)?),
            "$or" => Filter::Or(parse_list(value, &here)?),
            "$not" => !parse_object(value, &here)?,
            op if op.starts_with('$') => {
                return Err(invalid(
                    &here,
                    "unknown logical operator (use $and, $or, $not)",
                ))
            }
            column => parse_column(column, value, &here)?,
        });
    }
    Ok(match all.len() {
        1 => all.pop().expect("one filter"),
        _ => Filter::And(all),
    })
}

fn parse_list(value: &Value, path: &str) -> Result<Vec<Filter>> {
    let items = value
        .as_array()
        .ok_or_else(|| invalid(path, format!("expected an array of objects, got {value}")))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_object(item, &format!("{path}[{i}]")))
        .collect()
}

fn parse_column(column: &str, value: &Value, path: &str) -> Result<Filter> {
    match value {
        Value::Object(ops) if ops.keys().any(|k| k.starts_with('$')) => {
            parse_operators(column, ops, path)
        }
        Value::Object(_) | Value::Array(_) => Err(invalid(
            path,
            "expected a value or an object of operators ($eq, $in, ...)",
        )),
        scalar => Ok(Filter::eq(column, scalar.clone())),
    }
}

fn parse_operators(column: &str, ops: &Map<String, Value>, path: &str) -> Result<Filter> {
    let mut all = Vec::with_capacity(ops.len());
    for (op, value) in ops {
        let here = format!("{path}.{op}");
        let compare = |op| Filter::Compare {
            column: column.to_string(),
            op,
            value: value.clone(),
        };
        let text = |op| -> Result<Filter> {
            let text = value
                .as_str()
                .ok_or_else(|| invalid(&here, format!("expected a string, got {value}")))?;
            Ok(Filter::Text {
                column: column.to_string(),
                op,
                text: text.to_string(),
            })
        };
        let list = || -> Result<Vec<Value>> {
            value
                .as_array()
                .cloned()
                .ok_or_else(|| invalid(&here, format!("expected an array, got {value}")))
        };
        all.push(match op.as_str() {
            "$eq" => compare(Comparison::Eq),
            "$ne" => compare(Comparison::Ne),
            "$gt" => compare(Comparison::Gt),
            "$gte" => compare(Comparison::Gte),
            "$lt" => compare(Comparison::Lt),
            "$lte" => compare(Comparison::Lte),
            "$in" => Filter::In {
                column: column.to_string(),
                values: list()?,
                negated: false,
            },
            "$nin" | "$notIn" => Filter::In {
                column: column.to_string(),
                values: list()?,
                negated: true,
            },
            "$like" => text(TextMatch::Like)?,
            "$ilike" => text(TextMatch::ILike)?,
            "$contains" => text(TextMatch::Contains)?,
            "$startsWith" => text(TextMatch::StartsWith)?,
            "$endsWith" => text(TextMatch::EndsWith)?,
            "$isNull" => match value {
                Value::Bool(null) => Filter::IsNull {
                    column: column.to_string(),
                    negated: !null,
                },
                other => {
                    return Err(invalid(
                        &here,
                        format!("expected true or false, got {other}"),
                    ))
                }
            },
            "$between" => match value.as_array().map(Vec::as_slice) {
                Some([low, high]) => Filter::between(column, low.clone(), high.clone()),
                _ => return Err(invalid(&here, format!("expected [low, high], got {value}"))),
            },
            _ => {
                return Err(invalid(
                    &here,
                    "unknown operator (use $eq $ne $gt $gte $lt $lte $in $nin $like $ilike \
                     $contains $startsWith $endsWith $isNull $between)",
                ))
            }
        });
    }
    Ok(match all.len() {
        1 => all.pop().expect("one filter"),
        _ => Filter::And(all),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_columns_operators_and_logic() {
        let parsed = Filter::from_json(&json!({
            "age": {"$gte": 18, "$lt": 65},
            "$or": [{"role": {"$in": ["admin"]}}, {"name": {"$startsWith": "A"}}],
            "deleted_at": null,
            "$not": {"banned": true}
        }))
        .unwrap();
        // Keys in JSON object order (sorted): `$not`, `$or`, `age`, `deleted_at`.
        let expected = Filter::And(vec![
            !Filter::eq("banned", true),
            Filter::Or(vec![
                Filter::is_in("role", ["admin"]),
                Filter::starts_with("name", "A"),
            ]),
            Filter::gte("age", 18).and(Filter::lt("age", 65)),
            Filter::eq("deleted_at", Value::Null),
        ]);
        assert_eq!(parsed, expected);
    }

    #[test]
    fn malformed_objects_say_where() {
        for (bad, at) in [
            (json!([1]), "$"),
            (json!({"age": {"$gtx": 1}}), "$.age.$gtx"),
            (json!({"$xor": []}), "$.$xor"),
            (json!({"$or": {}}), "$.$or"),
            (json!({"age": {"$between": [1]}}), "$.age.$between"),
            (json!({"name": {"$like": 3}}), "$.name.$like"),
            (json!({"age": [1, 2]}), "$.age"),
        ] {
            match Filter::from_json(&bad) {
                Err(Error::InvalidFilter(message)) => {
                    assert!(message.starts_with(at), "{bad}: {message}")
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
