//! Checking one row against its entity's rules.
//!
//! The store hands a [`RowValidator`] the cells of a row, one per contract column (in
//! the contract's order, `None` where the column is absent or the cell empty), and gets
//! back typed [`Value`]s or the first [`Rejection`]. Dimensions are not checked: any
//! text is a valid dimension value.

use std::fmt;

use crate::config::{Config, SurveyScale};
use crate::entity::{ColumnType, Default, Entity, Rule};
use crate::parse::{self, ParseProblem};

/// A parsed cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// Missing.
    Null,
    /// The cell's text as given (the caller still holds it).
    Text,
    /// A default text filled in for a missing cell.
    DefaultText(&'static str),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(i64),
    /// Days since 1970-01-01.
    Date(i32),
    /// A decimal number.
    Float(f64),
    /// A whole number.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

/// The kind of a [`Rejection`], for programs (the API answers it as `code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectCode {
    /// The record cannot be read as a row: not a JSON object, wrong number of fields,
    /// not UTF-8, a column named twice.
    MalformedRecord,
    /// The record has a value in a column that cannot be stored (no name, reserved).
    InvalidColumn,
    /// A required value is missing.
    MissingValue,
    /// The value is not of the column's type (a timestamp, number, boolean).
    InvalidValue,
    /// The value is of the type but outside what the column allows (negative, off the
    /// survey's scale, too large).
    OutOfRange,
    /// The value is before the column it must follow (resolved before created).
    OutOfOrder,
    /// The value is not one of those the column allows (a status, a survey name).
    NotAllowed,
}

impl RejectCode {
    /// The code as the API writes it (`missing_value`).
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::MalformedRecord => "malformed_record",
            RejectCode::InvalidColumn => "invalid_column",
            RejectCode::MissingValue => "missing_value",
            RejectCode::InvalidValue => "invalid_value",
            RejectCode::OutOfRange => "out_of_range",
            RejectCode::OutOfOrder => "out_of_order",
            RejectCode::NotAllowed => "not_allowed",
        }
    }
}

/// Why a row was not stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The kind of problem.
    pub code: RejectCode,
    /// The failing column (`None` for problems of the whole record, such as a wrong
    /// number of fields).
    pub column: Option<String>,
    /// The offending value as given (empty when missing).
    pub value: String,
    /// Why, in words for the user.
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "column `{c}`, value `{}`: {}", self.value, self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

impl Rejection {
    /// A rejection for a value in a column that cannot be stored (no name, reserved).
    pub fn invalid_column(reason: impl Into<String>) -> Rejection {
        Rejection {
            code: RejectCode::InvalidColumn,
            ..Rejection::record(reason)
        }
    }

    /// A rejection of the whole record.
    pub fn record(reason: impl Into<String>) -> Rejection {
        Rejection {
            code: RejectCode::MalformedRecord,
            column: None,
            value: String::new(),
            reason: reason.into(),
        }
    }
}

/// Checks rows of one entity under one configuration.
#[derive(Debug, Clone)]
pub struct RowValidator<'a> {
    entity: Entity,
    config: &'a Config,
    /// For each column, the index of the column its cross-column rule or default refers to.
    references: Vec<Option<usize>>,
    survey_column: Option<usize>,
}

impl<'a> RowValidator<'a> {
    /// A validator for `entity` under `config`.
    pub fn new(entity: Entity, config: &'a Config) -> RowValidator<'a> {
        let references = entity
            .columns()
            .iter()
            .map(|c| match (c.rule, c.default) {
                (Rule::NotBefore(o) | Rule::After(o), _) | (_, Default::OnePlus(o)) => {
                    entity.column_index(o)
                }
                _ => None,
            })
            .collect();
        RowValidator {
            entity,
            config,
            references,
            survey_column: entity.column_index("survey"),
        }
    }

    /// The entity checked.
    pub fn entity(&self) -> Entity {
        self.entity
    }

    /// Checks one row. `cells[i]` is the cell of contract column `i`. On success `out`
    /// holds one value per contract column.
    pub fn validate(&self, cells: &[Option<&str>], out: &mut Vec<Value>) -> Result<(), Rejection> {
        out.clear();
        let columns = self.entity.columns();
        debug_assert_eq!(cells.len(), columns.len());
        for (i, (spec, cell)) in columns.iter().zip(cells).enumerate() {
            let reject = |code: RejectCode, reason: String| Rejection {
                code,
                column: Some(spec.name.to_string()),
                value: cell.unwrap_or("").to_string(),
                reason,
            };
            let text = match cell {
                Some(t) if !t.is_empty() => *t,
                _ => {
                    if spec.required {
                        return Err(reject(
                            RejectCode::MissingValue,
                            "required value is missing".into(),
                        ));
                    }
                    out.push(match spec.default {
                        Default::Null => Value::Null,
                        Default::Bool(b) => Value::Bool(b),
                        Default::Int(n) => Value::Int(n),
                        Default::Text(t) => Value::DefaultText(t),
                        Default::OnePlus(_) => match self.references[i].map(|j| out[j]) {
                            Some(Value::Int(n)) => Value::Int(n + 1),
                            _ => Value::Int(1),
                        },
                    });
                    continue;
                }
            };
            let problem = |p: ParseProblem| {
                let code = match p {
                    ParseProblem::TimestampRange | ParseProblem::IntegerRange => {
                        RejectCode::OutOfRange
                    }
                    _ => RejectCode::InvalidValue,
                };
                reject(code, p.to_string())
            };
            let value = match spec.ty {
                ColumnType::Text => Value::Text,
                ColumnType::Timestamp => Value::Timestamp(
                    parse::parse_timestamp(text, &self.config.time_zone)
                        .map_err(problem)?
                        .as_microsecond(),
                ),
                ColumnType::Date => Value::Date(parse::date_to_days(
                    parse::parse_date(text, &self.config.time_zone).map_err(problem)?,
                )),
                ColumnType::Decimal => Value::Float(parse::parse_decimal(text).map_err(problem)?),
                ColumnType::Integer => Value::Int(parse::parse_integer(text).map_err(problem)?),
                ColumnType::Boolean => Value::Bool(parse::parse_bool(text).map_err(problem)?),
                ColumnType::Score => {
                    let scale = self.scale_of_row(cells);
                    let score = parse::parse_integer(text).map_err(|p| match (p, scale) {
                        (ParseProblem::NotWhole, Some((name, s))) => reject(
                            RejectCode::OutOfRange,
                            format!(
                                "a {name} score must be a whole number from {} to {}",
                                s.min, s.max
                            ),
                        ),
                        (p, _) => problem(p),
                    })?;
                    Value::Int(score)
                }
            };
            self.check_rule(i, text, value, cells, out)
                .map_err(|(code, reason)| reject(code, reason))?;
            out.push(value);
        }
        Ok(())
    }

    fn scale_of_row(&self, cells: &[Option<&str>]) -> Option<(&str, SurveyScale)> {
        let survey = cells[self.survey_column?]?;
        self.config
            .surveys
            .get_key_value(survey)
            .map(|(k, v)| (k.as_str(), *v))
    }

    fn check_rule(
        &self,
        i: usize,
        text: &str,
        value: Value,
        cells: &[Option<&str>],
        earlier: &[Value],
    ) -> Result<(), (RejectCode, String)> {
        use RejectCode::{NotAllowed, OutOfOrder, OutOfRange};
        let spec = &self.entity.columns()[i];
        match spec.rule {
            Rule::None => Ok(()),
            Rule::NonNegative => match value {
                Value::Float(x) if x < 0.0 => Err((OutOfRange, "must be >= 0".into())),
                Value::Int(x) if x < 0 => Err((OutOfRange, "must be >= 0".into())),
                _ => Ok(()),
            },
            Rule::AtLeastOne => match value {
                Value::Int(x) if x < 1 => Err((OutOfRange, "must be >= 1".into())),
                _ => Ok(()),
            },
            Rule::NotBefore(other) | Rule::After(other) => {
                let strict = matches!(spec.rule, Rule::After(_));
                let reference = self.references[i].map(|j| earlier[j]);
                let ordered = match (reference, value) {
                    (Some(Value::Timestamp(a)), Value::Timestamp(b)) => Some((a, b)),
                    (Some(Value::Date(a)), Value::Date(b)) => Some((i64::from(a), i64::from(b))),
                    _ => None,
                };
                match ordered {
                    Some((a, b)) if strict && b <= a => {
                        Err((OutOfOrder, format!("must be after {other}")))
                    }
                    Some((a, b)) if !strict && b < a => {
                        Err((OutOfOrder, format!("must not be before {other}")))
                    }
                    _ => Ok(()),
                }
            }
            Rule::OneOf(allowed) => {
                if allowed.contains(&text) {
                    Ok(())
                } else {
                    Err((
                        NotAllowed,
                        format!("must be one of: {}", allowed.join(", ")),
                    ))
                }
            }
            Rule::Survey => {
                if self.config.surveys.contains_key(text) {
                    Ok(())
                } else {
                    let known: Vec<&str> = self.config.surveys.keys().map(String::as_str).collect();
                    Err((
                        NotAllowed,
                        format!(
                            "unknown survey; known surveys: {} (declare others in cxkpi.toml)",
                            known.join(", ")
                        ),
                    ))
                }
            }
            Rule::SurveyScale => {
                let (Value::Int(score), Some((name, scale))) = (value, self.scale_of_row(cells))
                else {
                    return Ok(());
                };
                if scale.contains(score) {
                    Ok(())
                } else {
                    Err((
                        OutOfRange,
                        format!(
                            "a {name} score must be a whole number from {} to {}",
                            scale.min, scale.max
                        ),
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Validates a row given as `column=value` pairs; returns the failing column and
    /// reason, or the values.
    fn check(entity: Entity, row: &[(&str, &str)]) -> Result<Vec<Value>, (String, String)> {
        let config = Config::default();
        let validator = RowValidator::new(entity, &config);
        let cells: Vec<Option<&str>> = entity
            .columns()
            .iter()
            .map(|c| row.iter().find(|(k, _)| *k == c.name).map(|(_, v)| *v))
            .collect();
        let mut out = Vec::new();
        validator
            .validate(&cells, &mut out)
            .map(|()| out)
            .map_err(|r| (r.column.unwrap_or_default(), r.reason))
    }

    #[test]
    fn defaults_of_tickets() {
        let values = check(
            Entity::Tickets,
            &[
                ("ticket_id", "T1"),
                ("created_at", "2024-01-01"),
                ("reopens", "2"),
            ],
        )
        .unwrap();
        // reopens 2, escalated false, contacts 1 + reopens = 3.
        assert_eq!(values[7], Value::Int(2));
        assert_eq!(values[8], Value::Bool(false));
        assert_eq!(values[9], Value::Int(3));
        let values = check(
            Entity::Tickets,
            &[("ticket_id", "T1"), ("created_at", "2024-01-01")],
        )
        .unwrap();
        assert_eq!(values[9], Value::Int(1));
    }

    #[test]
    fn first_failing_column_in_contract_order() {
        // Both amount and delivered_at are bad: amount comes first in the contract.
        let err = check(
            Entity::Orders,
            &[
                ("order_id", "O1"),
                ("customer_id", "C1"),
                ("ordered_at", "2024-02-01"),
                ("amount", "-5"),
                ("delivered_at", "2024-01-01"),
            ],
        )
        .unwrap_err();
        assert_eq!(err, ("amount".into(), "must be >= 0".into()));
    }

    #[test]
    fn survey_scales() {
        let row = |survey, score| {
            check(
                Entity::Responses,
                &[
                    ("response_id", "R1"),
                    ("survey", survey),
                    ("score", score),
                    ("responded_at", "2024-01-01"),
                ],
            )
        };
        assert!(row("nps", "10").is_ok());
        assert!(row("nps", "8.0").is_ok());
        assert_eq!(
            row("nps", "11").unwrap_err(),
            (
                "score".into(),
                "a nps score must be a whole number from 0 to 10".into()
            )
        );
        assert_eq!(
            row("csat", "7.5").unwrap_err(),
            (
                "score".into(),
                "a csat score must be a whole number from 1 to 5".into()
            )
        );
        assert_eq!(row("NPS", "5").unwrap_err().0, "survey");
    }

    #[test]
    fn strict_and_non_strict_order() {
        let sub = |ended| {
            check(
                Entity::Subscriptions,
                &[
                    ("subscription_id", "S1"),
                    ("customer_id", "C1"),
                    ("started_at", "2024-01-01"),
                    ("ended_at", ended),
                    ("mrr", "10"),
                ],
            )
        };
        assert_eq!(sub("2024-01-01").unwrap_err().1, "must be after started_at");
        assert!(sub("2024-01-01T00:00:01Z").is_ok());
    }
}
