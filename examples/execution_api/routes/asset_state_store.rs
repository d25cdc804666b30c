//! The router of Airflow's `routes/asset_state_store.py`, in a file of its own
//! as Airflow lays it out: the group `asset_state_store`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/asset_state_store.py`: values shared through an asset, named
/// by its name or its URI.
#[routes(prefix = "/store/asset", included)]
pub mod asset_state_store {
    use super::*;
    use crate::state::AssetRef;

    /// `(name or uri, key)` from the query; both non-empty.
    fn asset_and_key<'q>(q: &'q Query, by: &str) -> Result<(AssetRef<'q>, &'q str)> {
        let asset = q.required_nonempty(by)?;
        let key = q.required_nonempty("key")?;
        let asset = if by == "name" {
            AssetRef::Name(asset)
        } else {
            AssetRef::Uri(asset)
        };
        Ok((asset, key))
    }

    fn asset_only<'q>(q: &'q Query, by: &str) -> Result<AssetRef<'q>> {
        let asset = q.required_nonempty(by)?;
        Ok(if by == "name" {
            AssetRef::Name(asset)
        } else {
            AssetRef::Uri(asset)
        })
    }

    async fn get_value(store: &Store, req: &HttpRequest, by: &str) -> Result<HttpResponse> {
        let q = Query::parse(req)?;
        let (asset, key) = asset_and_key(&q, by)?;
        let value = store.asset_store_get(asset, key)?;
        Ok(HttpResponse::Ok().json(StoredValue { value }))
    }

    async fn put_value(
        store: &Store,
        req: &HttpRequest,
        by: &str,
        writer: Uuid,
        body: AssetStorePut,
    ) -> Result<HttpResponse> {
        let q = Query::parse(req)?;
        let (asset, key) = asset_and_key(&q, by)?;
        check_body("value", check_value(&body.value))?;
        store.asset_store_set(asset, key, body.value, writer)?;
        Ok(no_content())
    }

    async fn delete_value(store: &Store, req: &HttpRequest, by: &str) -> Result<HttpResponse> {
        let q = Query::parse(req)?;
        let (asset, key) = asset_and_key(&q, by)?;
        store.asset_store_delete(asset, key)?;
        Ok(no_content())
    }

    async fn clear_values(store: &Store, req: &HttpRequest, by: &str) -> Result<HttpResponse> {
        let q = Query::parse(req)?;
        store.asset_store_clear(asset_only(&q, by)?)?;
        Ok(no_content())
    }

    /// A value, by asset name.
    #[route(get, "/by-name/value", responses(200 = StoredValue, 404 = ErrorBody))]
    pub async fn get_by_name(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        get_value(&store, &req, "name").await
    }

    /// Stores a value, by asset name: 204.
    #[route(put, "/by-name/value", responses(204))]
    pub async fn put_by_name(
        token: TiToken,
        store: web::Data<Store>,
        req: HttpRequest,
        body: web::Json<AssetStorePut>,
    ) -> Result<HttpResponse> {
        put_value(&store, &req, "name", token.id, body.into_inner()).await
    }

    /// Deletes a value, by asset name: 204.
    #[route(delete, "/by-name/value", responses(204))]
    pub async fn delete_by_name(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        delete_value(&store, &req, "name").await
    }

    /// Deletes every value of an asset, by name: 204.
    #[route(delete, "/by-name/clear", responses(204))]
    pub async fn clear_by_name(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        clear_values(&store, &req, "name").await
    }

    /// A value, by asset URI.
    #[route(get, "/by-uri/value", responses(200 = StoredValue, 404 = ErrorBody))]
    pub async fn get_by_uri(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        get_value(&store, &req, "uri").await
    }

    /// Stores a value, by asset URI: 204.
    #[route(put, "/by-uri/value", responses(204))]
    pub async fn put_by_uri(
        token: TiToken,
        store: web::Data<Store>,
        req: HttpRequest,
        body: web::Json<AssetStorePut>,
    ) -> Result<HttpResponse> {
        put_value(&store, &req, "uri", token.id, body.into_inner()).await
    }

    /// Deletes a value, by asset URI: 204.
    #[route(delete, "/by-uri/value", responses(204))]
    pub async fn delete_by_uri(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        delete_value(&store, &req, "uri").await
    }

    /// Deletes every value of an asset, by URI: 204.
    #[route(delete, "/by-uri/clear", responses(204))]
    pub async fn clear_by_uri(store: web::Data<Store>, req: HttpRequest) -> Result<HttpResponse> {
        clear_values(&store, &req, "uri").await
    }
}
