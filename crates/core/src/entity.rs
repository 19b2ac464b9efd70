//! The nine entities of the import contract (`shared/spec/data-model.md`) as data.
//!
//! Each entity is a table of [`ColumnSpec`]s in the order of the contract. The order
//! matters: a row with several problems is reported once, for the first failing column
//! in this order, and every cross-column rule refers to a column that comes before the
//! column it constrains, so one pass over the columns checks a row.

use std::fmt;
use std::str::FromStr;

/// One of the nine importable entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    /// Customers: who they are, when they were won and lost.
    Customers,
    /// Orders with amounts and delivery.
    Orders,
    /// Subscription intervals billed at a constant MRR.
    Subscriptions,
    /// Survey answers (NPS, CSAT, CES, PPR, configured surveys).
    Responses,
    /// Support tickets.
    Tickets,
    /// Marketing and retention spend over date ranges.
    Spend,
    /// Website or app visits.
    Sessions,
    /// Referrals from one customer to a (possibly) new one.
    Referrals,
    /// Product usage and self-service events.
    Activity,
}

/// The storage type of a column, after parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text, kept exactly as given (not trimmed).
    Text,
    /// An instant, stored as microseconds since the Unix epoch (UTC).
    Timestamp,
    /// A calendar date in the workspace time zone, stored as days since 1970-01-01.
    Date,
    /// A decimal number (money, durations), stored as a 64-bit float.
    Decimal,
    /// A whole number, stored as a 64-bit integer.
    Integer,
    /// A boolean.
    Boolean,
    /// A survey score: a whole number inside the scale of the row's survey.
    Score,
}

/// A rule a column's value must meet besides its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// No rule beyond the type.
    None,
    /// The value must be `>= 0`.
    NonNegative,
    /// The value must be `>= 1`.
    AtLeastOne,
    /// The value must be `>=` the value of the named (earlier) column, when both exist.
    NotBefore(&'static str),
    /// The value must be `>` the value of the named (earlier) column, when both exist.
    After(&'static str),
    /// The value must be one of these lower-case words (matched exactly).
    OneOf(&'static [&'static str]),
    /// The value must name a configured survey (`nps`, `csat`, `ces`, `ppr` or one of
    /// the workspace configuration).
    Survey,
    /// The value must be a whole number inside the scale of the row's `survey`.
    SurveyScale,
}

/// What a missing value becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Default {
    /// Stays missing (null).
    Null,
    /// The given boolean.
    Bool(bool),
    /// The given integer.
    Int(i64),
    /// The given text.
    Text(&'static str),
    /// One plus the value of the named integer column (0 when that is missing too).
    OnePlus(&'static str),
}

/// A column of the import contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The column name, lower case, as stored.
    pub name: &'static str,
    /// The type it is parsed into.
    pub ty: ColumnType,
    /// Whether a missing value rejects the row.
    pub required: bool,
    /// The rule the value must meet.
    pub rule: Rule,
    /// What a missing value becomes when the column is optional.
    pub default: Default,
}

const fn col(name: &'static str, ty: ColumnType, required: bool, rule: Rule) -> ColumnSpec {
    ColumnSpec {
        name,
        ty,
        required,
        rule,
        default: Default::Null,
    }
}

const fn with_default(spec: ColumnSpec, default: Default) -> ColumnSpec {
    ColumnSpec { default, ..spec }
}

use ColumnType::*;

const CUSTOMERS: &[ColumnSpec] = &[
    col("customer_id", Text, true, Rule::None),
    col("acquired_at", Timestamp, true, Rule::None),
    col(
        "churned_at",
        Timestamp,
        false,
        Rule::NotBefore("acquired_at"),
    ),
    col("acquisition_channel", Text, false, Rule::None),
    col("campaign", Text, false, Rule::None),
];

const ORDERS: &[ColumnSpec] = &[
    col("order_id", Text, true, Rule::None),
    col("customer_id", Text, true, Rule::None),
    col("ordered_at", Timestamp, true, Rule::None),
    col("amount", Decimal, true, Rule::NonNegative),
    col("promised_at", Timestamp, false, Rule::None),
    col(
        "delivered_at",
        Timestamp,
        false,
        Rule::NotBefore("ordered_at"),
    ),
    col("accurate", Boolean, false, Rule::None),
];

const SUBSCRIPTIONS: &[ColumnSpec] = &[
    col("subscription_id", Text, true, Rule::None),
    col("customer_id", Text, true, Rule::None),
    col("started_at", Timestamp, true, Rule::None),
    col("ended_at", Timestamp, false, Rule::After("started_at")),
    col("mrr", Decimal, true, Rule::NonNegative),
];

const RESPONSES: &[ColumnSpec] = &[
    col("response_id", Text, true, Rule::None),
    col("customer_id", Text, false, Rule::None),
    col("survey", Text, true, Rule::Survey),
    col("score", Score, true, Rule::SurveyScale),
    col("responded_at", Timestamp, true, Rule::None),
    col("touchpoint", Text, false, Rule::None),
    col("comment", Text, false, Rule::None),
];

const TICKETS: &[ColumnSpec] = &[
    col("ticket_id", Text, true, Rule::None),
    col("customer_id", Text, false, Rule::None),
    col("created_at", Timestamp, true, Rule::None),
    col(
        "first_response_at",
        Timestamp,
        false,
        Rule::NotBefore("created_at"),
    ),
    col(
        "resolved_at",
        Timestamp,
        false,
        Rule::NotBefore("created_at"),
    ),
    col("channel", Text, false, Rule::None),
    col("replies", Integer, false, Rule::NonNegative),
    with_default(
        col("reopens", Integer, false, Rule::NonNegative),
        Default::Int(0),
    ),
    with_default(
        col("escalated", Boolean, false, Rule::None),
        Default::Bool(false),
    ),
    with_default(
        col("contacts", Integer, false, Rule::AtLeastOne),
        Default::OnePlus("reopens"),
    ),
    col("handle_seconds", Decimal, false, Rule::NonNegative),
];

const SPEND: &[ColumnSpec] = &[
    col("spend_id", Text, true, Rule::None),
    col("channel", Text, true, Rule::None),
    col("campaign", Text, false, Rule::None),
    with_default(
        col(
            "purpose",
            Text,
            false,
            Rule::OneOf(&["acquisition", "retention"]),
        ),
        Default::Text("acquisition"),
    ),
    col("period_start", Date, true, Rule::None),
    col("period_end", Date, true, Rule::NotBefore("period_start")),
    col("amount", Decimal, true, Rule::NonNegative),
];

const SESSIONS: &[ColumnSpec] = &[
    col("session_id", Text, true, Rule::None),
    col("visitor_id", Text, true, Rule::None),
    col("customer_id", Text, false, Rule::None),
    col("started_at", Timestamp, true, Rule::None),
    col("pageviews", Integer, true, Rule::AtLeastOne),
    with_default(
        col("converted", Boolean, false, Rule::None),
        Default::Bool(false),
    ),
];

const REFERRALS: &[ColumnSpec] = &[
    col("referral_id", Text, true, Rule::None),
    col("referrer_id", Text, true, Rule::None),
    col("referred_customer_id", Text, false, Rule::None),
    col("referred_at", Timestamp, true, Rule::None),
];

const ACTIVITY: &[ColumnSpec] = &[
    col("event_id", Text, true, Rule::None),
    col("customer_id", Text, true, Rule::None),
    col("occurred_at", Timestamp, true, Rule::None),
    col("event", Text, true, Rule::None),
    with_default(
        col("kind", Text, false, Rule::OneOf(&["usage", "self_service"])),
        Default::Text("usage"),
    ),
];

impl Entity {
    /// Every entity, in the order of the contract.
    pub const ALL: [Entity; 9] = [
        Entity::Customers,
        Entity::Orders,
        Entity::Subscriptions,
        Entity::Responses,
        Entity::Tickets,
        Entity::Spend,
        Entity::Sessions,
        Entity::Referrals,
        Entity::Activity,
    ];

    /// The entity's name, which is also its table name.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Customers => "customers",
            Entity::Orders => "orders",
            Entity::Subscriptions => "subscriptions",
            Entity::Responses => "responses",
            Entity::Tickets => "tickets",
            Entity::Spend => "spend",
            Entity::Sessions => "sessions",
            Entity::Referrals => "referrals",
            Entity::Activity => "activity",
        }
    }

    /// The columns of the contract, in its order; the first is the id.
    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            Entity::Customers => CUSTOMERS,
            Entity::Orders => ORDERS,
            Entity::Subscriptions => SUBSCRIPTIONS,
            Entity::Responses => RESPONSES,
            Entity::Tickets => TICKETS,
            Entity::Spend => SPEND,
            Entity::Sessions => SESSIONS,
            Entity::Referrals => REFERRALS,
            Entity::Activity => ACTIVITY,
        }
    }

    /// The name of the id (primary key) column.
    pub fn id_column(self) -> &'static str {
        self.columns()[0].name
    }

    /// The contract columns a KPI of this entity can be segmented and filtered by: text
    /// and boolean columns other than ids and free text (`comment`).
    pub fn segment_columns(self) -> Vec<&'static str> {
        self.columns()
            .iter()
            .skip(1)
            .filter(|c| matches!(c.ty, ColumnType::Text | ColumnType::Boolean))
            .filter(|c| !c.name.ends_with("_id") && c.name != "comment")
            .map(|c| c.name)
            .collect()
    }

    /// The position of a contract column by its (lower-case) name.
    pub fn column_index(self, name: &str) -> Option<usize> {
        self.columns().iter().position(|c| c.name == name)
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an entity name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown entity `{given}`; the entities are: {}", entity_names())]
pub struct UnknownEntity {
    /// What was given.
    pub given: String,
}

fn entity_names() -> String {
    Entity::ALL.map(Entity::name).join(", ")
}

impl FromStr for Entity {
    type Err = UnknownEntity;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Entity::ALL
            .into_iter()
            .find(|e| e.name() == wanted)
            .ok_or_else(|| UnknownEntity {
                given: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_column_rules_refer_to_earlier_columns() {
        for entity in Entity::ALL {
            let cols = entity.columns();
            for (i, c) in cols.iter().enumerate() {
                let other = match (c.rule, c.default) {
                    (Rule::NotBefore(o) | Rule::After(o), _) => Some(o),
                    (_, Default::OnePlus(o)) => Some(o),
                    _ => None,
                };
                if let Some(o) = other {
                    let j = entity.column_index(o).expect("referenced column exists");
                    assert!(j < i, "{entity}.{} refers to later column {o}", c.name);
                }
            }
        }
    }

    #[test]
    fn segment_columns() {
        assert_eq!(Entity::Tickets.segment_columns(), ["channel", "escalated"]);
        assert_eq!(Entity::Sessions.segment_columns(), ["converted"]);
        assert_eq!(
            Entity::Responses.segment_columns(),
            ["survey", "touchpoint"]
        );
        assert!(Entity::Referrals.segment_columns().is_empty());
    }

    #[test]
    fn parse_entity_names() {
        assert_eq!("Orders".parse::<Entity>(), Ok(Entity::Orders));
        let err = "order".parse::<Entity>().unwrap_err();
        assert!(err.to_string().contains("customers, orders, subscriptions"));
    }
}
