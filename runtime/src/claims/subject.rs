//! The check of a token's `sub` against its [`SubjectFormat`] (the format
//! itself is a vocabulary's word, in the policy layer).

use serde_json::Value;

use crate::jose::InvalidReason;
use crate::policy::{parse_hyphenated_uuid, SubjectFormat};

impl SubjectFormat {
    /// The subject if `sub` has this format.
    pub(crate) fn check(self, sub: Value) -> Result<String, InvalidReason> {
        match (self, sub) {
            (SubjectFormat::Uuid, Value::String(s)) if parse_hyphenated_uuid(&s).is_some() => Ok(s),
            (SubjectFormat::Uuid, _) => Err(InvalidReason::InvalidSubject),
            (SubjectFormat::Any, Value::String(s)) if !s.is_empty() => Ok(s),
            (SubjectFormat::Any, _) => Err(InvalidReason::InvalidClaim("sub")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn uuid_subjects_are_hyphenated_uuids() {
        let id = "0190b6a6-7f3e-7c1a-9d2b-3c4d5e6f7a8b";
        assert_eq!(SubjectFormat::Uuid.check(json!(id)), Ok(id.to_owned()));
        let upper = id.to_uppercase();
        assert_eq!(SubjectFormat::Uuid.check(json!(upper)), Ok(upper));
        for bad in [
            json!("alice"),
            json!(id.replace('-', "")),
            json!(42),
            json!(""),
        ] {
            assert_eq!(
                SubjectFormat::Uuid.check(bad),
                Err(InvalidReason::InvalidSubject)
            );
        }
    }

    #[test]
    fn any_subject_is_a_non_empty_string() {
        assert_eq!(SubjectFormat::Any.check(json!("alice")), Ok("alice".into()));
        for bad in [json!(""), json!(42), json!(["alice"]), json!(null)] {
            assert_eq!(
                SubjectFormat::Any.check(bad),
                Err(InvalidReason::InvalidClaim("sub"))
            );
        }
    }
}
