//! Query strings, read as FastAPI reads them: a list parameter repeats its
//! name (`task_ids=a&task_ids=b`), a scalar takes the last value, unknown
//! parameters are ignored, and a missing or malformed one is a 422 in
//! pydantic's shape ([`Invalid`]).

use actix_web::{web, HttpRequest};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::errors::Invalid;

/// A parsed query string.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// The request's query string, percent-decoded.
    pub fn parse(req: &HttpRequest) -> Result<Query, Invalid> {
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(|q| Query {
                pairs: q.into_inner(),
            })
            .map_err(|e| Invalid::new("query", "", "value_error", e.to_string()))
    }

    /// The last value of `name`, if given.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The last value of `name`; 422 when it is missing.
    pub fn required(&self, name: &str) -> Result<&str, Invalid> {
        self.text(name)
            .ok_or_else(|| Invalid::new("query", name, "missing", "Field required"))
    }

    /// Like [`Query::required`], and not empty (`min_length=1`).
    pub fn required_nonempty(&self, name: &str) -> Result<&str, Invalid> {
        let value = self.required(name)?;
        if value.is_empty() {
            return Err(Invalid::new(
                "query",
                name,
                "string_too_short",
                "String should have at least 1 character",
            ));
        }
        Ok(value)
    }

    /// Every value of `name`, in order.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// `name` parsed by `parse`; 422 with `kind` and `msg` when it does not.
    pub fn parsed<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        kind: &'static str,
        msg: &str,
    ) -> Result<Option<T>, Invalid> {
        self.text(name)
            .map(|v| parse(v).ok_or_else(|| Invalid::new("query", name, kind, msg)))
            .transpose()
    }

    /// An integer.
    pub fn int(&self, name: &str) -> Result<Option<i64>, Invalid> {
        self.parsed(
            name,
            |v| v.trim().parse().ok(),
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        )
    }

    /// A boolean, spelled as pydantic accepts it (`true`, `1`, `yes`, `on`,
    /// ...).
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, Invalid> {
        self.parsed(
            name,
            parse_bool,
            "bool_parsing",
            "Input should be a valid boolean, unable to interpret input",
        )
    }

    /// A date and time with an offset (RFC 3339, what the SDK's
    /// `isoformat()` writes).
    pub fn datetime(&self, name: &str) -> Result<Option<OffsetDateTime>, Invalid> {
        self.parsed(
            name,
            parse_datetime,
            "datetime_parsing",
            "Input should be a valid datetime with a timezone offset",
        )
    }

    /// Every value of `name` as a date and time.
    pub fn datetimes(&self, name: &str) -> Result<Vec<OffsetDateTime>, Invalid> {
        self.list(name)
            .iter()
            .map(|v| {
                parse_datetime(v).ok_or_else(|| {
                    Invalid::new(
                        "query",
                        name,
                        "datetime_parsing",
                        "Input should be a valid datetime with a timezone offset",
                    )
                })
            })
            .collect()
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

fn parse_datetime(v: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(v, &Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn query(q: &str) -> Query {
        Query::parse(&TestRequest::with_uri(&format!("/x?{q}")).to_http_request()).unwrap()
    }

    #[test]
    fn lists_repeat_and_scalars_take_the_last_value() {
        let q = query("task_ids=a&task_ids=b&dag_id=d&dag_id=e&x=%2B1");
        assert_eq!(q.list("task_ids"), ["a", "b"]);
        assert_eq!(q.text("dag_id"), Some("e"));
        assert_eq!(q.text("x"), Some("+1"));
        assert_eq!(q.required("nope").unwrap_err().kind, "missing");
    }

    #[test]
    fn typed_values_are_422_when_malformed() {
        let q = query(
            "n=5&b=Yes&t=2026-01-01T00%3A00%3A00%2B00%3A00&bad=x&naive=2026-01-01T00%3A00%3A00&e=",
        );
        assert_eq!(q.int("n"), Ok(Some(5)));
        assert_eq!(q.boolean("b"), Ok(Some(true)));
        assert!(q.datetime("t").unwrap().is_some());
        assert_eq!(q.int("missing"), Ok(None));
        assert_eq!(q.int("bad").unwrap_err().kind, "int_parsing");
        assert_eq!(q.boolean("bad").unwrap_err().kind, "bool_parsing");
        assert_eq!(q.datetime("naive").unwrap_err().kind, "datetime_parsing");
        assert_eq!(
            q.required_nonempty("e").unwrap_err().kind,
            "string_too_short"
        );
    }
}
