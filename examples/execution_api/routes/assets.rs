//! The router of Airflow's `routes/assets.py`, in a file of its own
//! as Airflow lays it out: the group `assets`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/assets.py`: assets the example learnt from successful tasks'
/// outlets.
#[routes(prefix = "/assets", included)]
pub mod assets {
    use super::*;
    use crate::state::AssetRef;

    /// An asset by name, or 404.
    #[route(get, "/by-name", responses(200 = AssetResponse, 404 = ErrorBody))]
    pub async fn by_name(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let name = q.required("name")?;
        Ok(HttpResponse::Ok().json(store.asset(AssetRef::Name(name))?))
    }

    /// An asset by URI, or 404.
    #[route(get, "/by-uri", responses(200 = AssetResponse, 404 = ErrorBody))]
    pub async fn by_uri(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let uri = q.required("uri")?;
        Ok(HttpResponse::Ok().json(store.asset(AssetRef::Uri(uri))?))
    }

    /// The assets an alias resolved to; an empty list for an unknown
    /// alias.
    #[route(get, "/by-alias", responses(200 = Vec<AssetResponse>))]
    pub async fn by_alias(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        let q = Query::parse(&req)?;
        let alias = q.required("alias_name")?;
        Ok(HttpResponse::Ok().json(store.assets_by_alias(alias)))
    }
}
