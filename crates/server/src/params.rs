//! Query parameters: read from the query string by name, each allowed at most once
//! except `where` and `by`, which may repeat; an unknown parameter is an error (a typo would
//! otherwise be ignored and the answer silently be about something else).

use cxkpi_app::kpis::{PeriodChoice, Slice};

use crate::error::{ApiError, ApiResult};

/// The parameters of one request.
#[derive(Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Reads `query` and checks every name is in `allowed`.
    pub fn parse(query: Option<&str>, allowed: &[&str]) -> ApiResult<Params> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        for (i, (name, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&name.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{name}`; this endpoint takes: {}",
                    allowed.join(", ")
                )));
            }
            if name != "where" && name != "by" && pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(ApiError::bad_request(format!(
                    "query parameter `{name}` is given twice"
                )));
            }
        }
        Ok(Params { pairs })
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A boolean parameter: `true`/`false` (absent: false).
    pub fn flag(&self, name: &str) -> ApiResult<bool> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "`{name}` is true or false, not `{other}`"
            ))),
        }
    }

    /// A whole-number parameter within `range`.
    pub fn number(
        &self,
        name: &str,
        default: usize,
        range: std::ops::RangeInclusive<usize>,
    ) -> ApiResult<usize> {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        text.parse::<usize>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "`{name}` must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ))
            })
    }

    /// `period`, `from`, `to`, `grain`.
    pub fn periods(&self) -> PeriodChoice {
        PeriodChoice {
            period: self.get("period").map(str::to_string),
            from: self.get("from").map(str::to_string),
            to: self.get("to").map(str::to_string),
            grain: self.get("grain").map(str::to_string),
        }
    }

    /// `by` and every `where`.
    pub fn slice(&self) -> Slice {
        Slice {
            by: self.all("by"),
            filters: self.all("where"),
        }
    }

    /// The parameters in a canonical order, for cache keys.
    pub fn canonical(&self) -> String {
        let mut pairs = self.pairs.clone();
        // `where` filters are ANDed, so their order does not matter either; the order
        // of `by` does (it orders a segment's values), so it sorts after the others in
        // the order given.
        pairs.sort_by(|a, b| match (a.0 == "by", b.0 == "by") {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            (false, false) => a.cmp(b),
        });
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_where_unknown_and_twice() {
        let p = Params::parse(
            Some("by=region&where=plan%3Dpro&where=region=eu&compare=true"),
            &["by", "where", "compare"],
        )
        .unwrap();
        assert_eq!(p.get("by"), Some("region"));
        assert_eq!(p.all("where"), vec!["plan=pro", "region=eu"]);
        assert!(p.flag("compare").unwrap());
        // `by` sorts last, keeping its order (it orders a segment's values).
        assert_eq!(
            p.canonical(),
            "compare=true&where=plan%3Dpro&where=region%3Deu&by=region"
        );
        let two = |q: &str| {
            Params::parse(Some(q), &["by", "where"])
                .unwrap()
                .canonical()
        };
        assert_eq!(two("by=b&where=x%3D1&by=a"), "where=x%3D1&by=b&by=a");
        assert_ne!(two("by=a&by=b"), two("by=b&by=a"));
        let err = Params::parse(Some("grian=week"), &["grain"]).unwrap_err();
        assert!(err.message.contains("`grian`"), "{}", err.message);
        assert!(Params::parse(Some("top=1&top=2"), &["top"]).is_err());
        let p = Params::parse(Some("top=0"), &["top"]).unwrap();
        assert!(p.number("top", 10, 1..=1000).is_err());
    }
}

/// The query parameters as the OpenAPI document describes them (the handlers read
/// them with [`Params`], which also refuses unknown ones).
pub mod doc {
    #![allow(dead_code)]
    use serde::Deserialize;
    use utoipa::{IntoParams, ToSchema};

    /// Which periods.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct PeriodQuery {
        /// One period: 2024-06-03, 2024-W23, 2024-06, 2024-Q2 or 2024.
        period: Option<String>,
        /// First day of a range, YYYY-MM-DD (with `to`).
        from: Option<String>,
        /// Day after the range, YYYY-MM-DD (exclusive; with `from`).
        to: Option<String>,
        /// Cut the range into periods: day, week, month, quarter, year.
        grain: Option<String>,
    }

    /// Segments and filters.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct SliceQuery {
        /// The dimension to segment by (a customer dimension such as `region`); the
        /// KPI and report endpoints take several (`by=plan&by=region`).
        by: Option<Vec<String>>,
        /// Filters in the grammar of `--where` (`plan=pro`, `plan in (pro, basic)`,
        /// `mrr >= 100`); repeat for several (they are ANDed).
        #[serde(rename = "where")]
        r#where: Option<Vec<String>>,
    }

    /// Compare each period with the one before.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct CompareQuery {
        /// Add the previous period's value, the change and its test.
        compare: Option<bool>,
    }

    /// The instant of a customer view.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AsOfQuery {
        /// YYYY-MM-DD (default: the end of the data's last complete month).
        as_of: Option<String>,
    }

    /// A health band.
    #[derive(Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Band {
        /// At or above `health.green_at`.
        Green,
        /// Between the two.
        Yellow,
        /// Below `health.yellow_at`.
        Red,
    }

    /// Health filters.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct HealthQuery {
        /// Only customers in this band.
        band: Option<Band>,
    }

    /// A unit of time for survival curves.
    #[derive(Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Unit {
        /// Days.
        Days,
        /// Weeks.
        Weeks,
        /// Average months (30.4375 days).
        Months,
    }

    /// Survival options.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct SurvivalQuery {
        /// The unit of the times (default months).
        unit: Option<Unit>,
    }

    /// The period length cohorts are cut by.
    #[derive(Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum CohortGrain {
        /// ISO weeks.
        Week,
        /// Calendar months.
        Month,
        /// Calendar quarters.
        Quarter,
    }

    /// What a cohort retains.
    #[derive(Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum CohortMeasure {
        /// Customers still active.
        Customers,
        /// The revenue they order.
        Revenue,
        /// Their MRR.
        Mrr,
    }

    /// Cohort options.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct CohortsQuery {
        /// The period length of the cohorts (default month).
        by_acquisition: Option<CohortGrain>,
        /// What is retained (default customers).
        measure: Option<CohortMeasure>,
        /// First day of the cohorts, YYYY-MM-DD (with `to`; default: the last 12
        /// complete periods).
        from: Option<String>,
        /// Day after the cohorts, YYYY-MM-DD (exclusive; with `from`).
        to: Option<String>,
    }

    /// Themes options.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ThemesQuery {
        /// Terms per list (default 10).
        #[param(minimum = 1, maximum = 1000)]
        top: Option<u32>,
    }

    /// How many customers.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct TopQuery {
        /// At most this many (default 50).
        #[param(minimum = 1, maximum = 10000)]
        top: Option<u32>,
    }

    /// Drivers options.
    #[derive(Deserialize, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct DriversQuery {
        /// Split the change of NPS into mix and rate effects by this dimension.
        by: Option<String>,
    }
}
