//! The actix-web glue, the top layer: the bearer header ([`bearer`]), the
//! per-request record of the one verification a request gets
//! ([`request`]), the [`Enforce`](enforce::Enforce) wrapper that runs a
//! route's policy and then its guards ([`guard`]), the token extractors
//! ([`extract`]), the refresh middleware ([`reissue`]), how a group
//! registers its routes (`routing`), the 405 answer
//! ([`Fallback`](method_not_allowed::Fallback)),
//! [`AuthError`](error::AuthError), every refusal of the layers below as an
//! RFC 6750 answer, and the [`render`]er that gives every refusal the
//! application's shape.

pub(crate) mod bearer;
pub(crate) mod enforce;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod guard;
pub(crate) mod method_not_allowed;
pub(crate) mod methods;
pub(crate) mod reissue;
pub(crate) mod render;
pub(crate) mod request;
pub(crate) mod routing;
pub(crate) mod trie;

pub use bearer::bearer_token;
pub use enforce::{Enforce, EnforceService};
pub use error::AuthError;
pub use extract::{ClaimError, TiToken, Token};
pub use guard::{path_param, Deny, Guard, GuardDecl, GuardEntry, GuardFuture};
pub use method_not_allowed::{Fallback, FallbackService, NotFound};
pub use reissue::{needs_refresh, Reissue, ReissueFuture, ReissueService, REFRESHED_TOKEN_HEADER};
pub use render::{reason, Refusal, Renderer};
pub use request::{authenticate, authorized_claims};
