//! The actix-web glue, the top layer: the bearer header ([`bearer`]), the
//! per-request record of the one verification a request gets
//! ([`request`]), the [`Enforce`](enforce::Enforce) wrapper that runs a
//! route's policy, the token extractors ([`extract`]), the refresh
//! middleware ([`reissue`]), how a group registers its routes (`routing`),
//! the 405 answer ([`Fallback`](method_not_allowed::Fallback)), and
//! [`AuthError`](error::AuthError), which renders every refusal of the
//! layers below as an RFC 6750 response.

pub(crate) mod bearer;
pub(crate) mod enforce;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod method_not_allowed;
pub(crate) mod methods;
pub(crate) mod reissue;
pub(crate) mod request;
pub(crate) mod routing;
pub(crate) mod trie;

pub use bearer::bearer_token;
pub use enforce::{Enforce, EnforceService};
pub use error::AuthError;
pub use extract::{ClaimError, TiToken, Token};
pub use method_not_allowed::{Fallback, FallbackService, NotFound};
pub use reissue::{needs_refresh, Reissue, ReissueFuture, ReissueService, REFRESHED_TOKEN_HEADER};
pub use request::{authenticate, authorized_claims};
