//! The router of Airflow's `routes/asset_events.py`, in a file of its own
//! as Airflow lays it out: the group `asset_events`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/asset_events.py`.
#[routes(prefix = "/asset-events", included)]
pub mod asset_events {
    use super::*;
    use crate::state::EventFilter;

    fn filter(q: &Query) -> Result<EventFilter> {
        Ok(EventFilter {
            after: q.datetime("after")?,
            before: q.datetime("before")?,
            descending: !q.boolean("ascending")?.unwrap_or(true),
            limit: q
                .int("limit")?
                .filter(|n| *n > 0)
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
        })
    }

    /// Events of an asset, by name and/or URI (both parameters must be
    /// present, one may be empty; both empty is a 400).
    #[route(get, "/by-asset", responses(200 = AssetEventsResponse, 400 = ErrorBody))]
    pub async fn by_asset(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let name = q.required("name")?;
        let uri = q.required("uri")?;
        let events = store.asset_events(Some(name), Some(uri), &filter(&q)?)?;
        Ok(HttpResponse::Ok().json(events))
    }

    /// Events emitted through an asset alias.
    #[route(get, "/by-asset-alias", responses(200 = AssetEventsResponse))]
    pub async fn by_asset_alias(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let alias = q.required("name")?;
        Ok(HttpResponse::Ok().json(store.alias_events(alias, &filter(&q)?)))
    }
}
