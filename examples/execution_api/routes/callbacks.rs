//! The router of Airflow's `routes/callbacks.py` of Airflow's main branch, in a file of its own
//! as Airflow lays it out: the group `callbacks`, marked `included`, which the
//! top-level group `execution` (`routes.rs`) lists in its `include = [..]`
//! and assembles under its `/execution` prefix, with the same checks as a
//! group written inline there (SPEC §2 "Groups across files").

use scopegate::routes;

/// `routes/callbacks.py` of Airflow's main branch (Execution API
/// version 2026-10-30, apache/airflow#71192; not one of Airflow
/// 3.3.2's operations): a deadline callback's worker exchanges its
/// single-use `callback` token, once, for an execution token. Only a
/// callback token, and only the one minted for this callback
/// (`callback:self`), may call it.
#[routes(prefix = "/callbacks", scopes = ["callback:self", "token:callback"], included)]
pub mod callbacks {
    use super::*;
    use crate::models::callbacks::{CallbackClaim, CallbackRun};

    /// Claims the callback (queued → running, atomically) and answers
    /// 200 with its id and state, and an execution token for the same
    /// subject in `Refreshed-API-Token`. The body (`hostname`, `pid`,
    /// `start_date`, each optional) may be `{}` or empty. 404 for an
    /// unknown callback; 409 once its token was exchanged.
    #[route(
        patch,
        "/<callback_id>/run",
        request = CallbackClaim,
        responses(200 = CallbackRun, 404 = ErrorBody, 409 = ErrorBody)
    )]
    pub async fn run(
        token: TiToken,
        store: web::Data<Store>,
        issuer: web::Data<Issuer>,
        body: web::Bytes,
    ) -> Result<HttpResponse> {
        let claim: CallbackClaim = if body.iter().all(u8::is_ascii_whitespace) {
            CallbackClaim::default()
        } else {
            serde_json::from_slice(&body)
                .map_err(|e| Invalid::new("body", "", "json_invalid", e.to_string()))?
        };
        let run = store.claim_callback(token.id, &claim)?;
        // The execution token continues the callback token's chain (its
        // id and start), as `/run`'s swap does, so revoking either
        // revokes both.
        match issuer.reissue(&token.claims, TokenType::EXECUTION) {
            Ok(execution_token) => Ok(HttpResponse::Ok()
                .insert_header((REFRESHED_TOKEN_HEADER, execution_token))
                .json(run)),
            // Only a broken key fails here, as for `/run`.
            Err(err) => {
                tracing::error!(callback = %token.id, error = %err, "could not issue an execution token");
                Ok(HttpResponse::InternalServerError()
                    .json(json!({"detail": "could not issue an execution token"})))
            }
        }
    }
}
