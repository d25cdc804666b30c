//! `scopegate.toml` (SPEC §6) in real builds. Every trybuild case shares
//! one manifest directory, which has no `scopegate.toml`; so these cases are
//! small crates, each with its own `scopegate.toml`, generated under
//! `target/tests/scopegate-toml/` and checked with cargo in trybuild's
//! target directory, so that their dependencies are the ones trybuild has
//! already compiled.
//!
//! Each case asserts the exact diagnostics of a mistake in the file (the
//! file, its line and column, and what to write), and
//! `a_change_to_scopegate_toml_recompiles_the_crate` proves that the
//! compiler tracks the file.

#[path = "support/fixture_crate.rs"]
mod fixture_crate;

use std::ops::Deref;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use fixture_crate::{target_dir, FixtureCrate};

/// A generated crate with a `scopegate.toml`.
struct Fixture(FixtureCrate);

impl Deref for Fixture {
    type Target = FixtureCrate;

    fn deref(&self) -> &FixtureCrate {
        &self.0
    }
}

impl Fixture {
    /// A crate named `case` with this `scopegate.toml` (none if `None`) and
    /// this `src/main.rs`.
    fn new(case: &str, toml: Option<&str>, main: &str) -> Fixture {
        let fixture = Fixture(FixtureCrate::new(
            &format!("scopegate-toml/{case}"),
            &format!("vocab-{case}"),
        ));
        fixture.write_toml(toml);
        fixture.write("src/main.rs", main);
        fixture
    }

    fn write_toml(&self, toml: Option<&str>) {
        match toml {
            Some(text) => self.write("scopegate.toml", text),
            None => {
                let _ = std::fs::remove_file(self.dir.join("scopegate.toml"));
            }
        }
    }

    /// The `error: ..` lines of a failed `cargo check`, with the crate's
    /// directory written `$DIR`.
    fn errors(&self) -> Vec<String> {
        let (out, secs) = self.cargo("check");
        eprintln!("{}: cargo check in {secs:.1} s", self.dir.display());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "the build must fail:\n{stderr}");
        let dir = self.dir.display().to_string();
        stderr
            .lines()
            .filter(|l| l.starts_with("error") && !l.starts_with("error: could not compile"))
            .map(|l| l.replace(&dir, "$DIR"))
            .collect()
    }
}

/// One route that every case's vocabulary can check; with a broken file
/// the error is reported at it.
const ONE_ROUTE: &str = r#"
#[scopegate::route(get, "/health", public)]
async fn health() -> &'static str {
    "ok"
}

fn main() {
    let _ = actix_web::App::new().service(health);
}
"#;

const TOKEN: &str = "[token]\ntypes = [\"clerk\", \"auditor\"]\ndefault = \"clerk\"\n";

/// Each class of mistake in `scopegate.toml`: its file, and the exact
/// diagnostics. Checked one after the other, as cargo locks the target
/// directory anyway.
#[test]
fn every_class_of_mistake_in_scopegate_toml_names_the_file_line_and_fix() {
    let cases: &[(&str, String, &[&str])] = &[
        (
            "malformed",
            "[token]\ntypes = [\"clerk\" \"auditor\"]\ndefault = \"clerk\"\n".into(),
            &[
                "error: $DIR/scopegate.toml:2:18: this is not valid TOML: missing comma between \
               array elements, expected `,`",
            ],
        ),
        (
            "unknown-key",
            format!("{TOKEN}[owners.\"account:self\"]\nparam = \"account\"\ncompre = \"exact\"\n"),
            &["error: $DIR/scopegate.toml:6:1: unknown key `compre` in \
               `[owners.\"account:self\"]`: did you mean `compare`?"],
        ),
        (
            "default-not-a-type",
            "[token]\ntypes = [\"clerk\", \"auditor\"]\ndefault = \"clerks\"\n".into(),
            &[
                "error: $DIR/scopegate.toml:3:11: `default = \"clerks\"` is not one of `types`: \
               did you mean `clerk`?",
            ],
        ),
        (
            "duplicate-type",
            "[token]\ntypes = [\"clerk\", \"auditor\", \"clerk\"]\ndefault = \"clerk\"\n".into(),
            &[
                "error: $DIR/scopegate.toml:2:30: token type `clerk` is listed twice in `types`: \
               remove this one",
            ],
        ),
        (
            "duplicate-owner",
            format!(
                "{TOKEN}[owners.\"account:self\"]\nparam = \"account\"\n\
                 [owners.\"account:self\"]\nparam = \"account_id\"\n"
            ),
            &[
                "error: $DIR/scopegate.toml:6:9: `\"account:self\"` is declared twice: declare \
               each key, and each `[owners.\"...\"]` table, once",
            ],
        ),
        (
            "owner-without-param",
            format!("{TOKEN}[owners.\"account:self\"]\nlabel = \"account\"\n"),
            &[
                "error: $DIR/scopegate.toml:4:9: `[owners.\"account:self\"]` has no `param`: \
               write the path parameter this scope guards, e.g. `param = \"account_id\"`",
            ],
        ),
        (
            "param-not-an-identifier",
            format!("{TOKEN}[owners.\"account:self\"]\nparam = \"account-id\"\n"),
            &[
                "error: $DIR/scopegate.toml:5:9: `param = \"account-id\"` is not a path parameter \
               name: write an identifier, e.g. `param = \"account_id\"`",
            ],
        ),
        (
            "bad-compare",
            format!(
                "{TOKEN}[owners.\"account:self\"]\nparam = \"account\"\ncompare = \"string\"\n"
            ),
            &[
                "error: $DIR/scopegate.toml:6:11: `compare = \"string\"` is not a comparison: \
               write `compare = \"uuid\"` (both parsed as UUIDs) or `compare = \"exact\"` (byte \
               for byte)",
            ],
        ),
        (
            "bad-type-name",
            "[token]\ntypes = [\"Clerk\"]\ndefault = \"Clerk\"\n".into(),
            &[
                "error: $DIR/scopegate.toml:2:10: token type `Clerk` must be lower-case letters, \
                 digits, `_` and `-`: write \"clerk\"",
            ],
        ),
        (
            "bad-subject",
            format!("{TOKEN}subject = \"names\"\n"),
            &[
                "error: $DIR/scopegate.toml:4:11: `subject = \"names\"` is not a subject format: \
                 write `subject = \"uuid\"` (a token's `sub` is a UUID, as Airflow's task \
                 instance ids) or `subject = \"any\"` (any non-empty string: user names, \
                 account ids)",
            ],
        ),
        (
            "permissions-format",
            "[permissions]\nformat = \"spaces\"\nnames = [\"reports:read\"]\n".into(),
            &[
                "error: $DIR/scopegate.toml:2:10: `format = \"spaces\"` is not a permissions \
                 format: did you mean `format = \"space\"`? Write `format = \"space\"` (one \
                 string, names separated by spaces, as OAuth 2's `scope`) or `format = \"array\"` \
                 (a JSON array of strings)",
            ],
        ),
        (
            "permission-is-an-owner",
            format!(
                "{TOKEN}[owners.\"account:self\"]\nparam = \"account\"\n\
                 [permissions]\nclaim = \"scp\"\nnames = [\"account:self\"]\n"
            ),
            &[
                "error: $DIR/scopegate.toml:8:10: permission `account:self` is also an owner \
                 scope, `[owners.\"account:self\"]`: a route could not tell which one it \
                 requires; rename one of them",
            ],
        ),
        (
            "permission-token-prefix",
            "[permissions]\nnames = [\"token:admin\"]\n".into(),
            &[
                "error: $DIR/scopegate.toml:2:10: permission `token:admin` cannot start with \
                 `token:`, which names token types: rename it, e.g. \"admin\"",
            ],
        ),
        (
            "permission-forbidden-character",
            "[permissions]\nnames = [\"reports read\"]\n".into(),
            &[
                "error: $DIR/scopegate.toml:2:10: permission `reports read` must be printable \
                 ASCII without spaces, `\"` or `\\` (RFC 6749's scope-token): write \
                 \"reports_read\"",
            ],
        ),
        (
            "permissions-in-the-type-claim",
            format!("{TOKEN}[permissions]\nnames = [\"reports:read\"]\n"),
            &[
                "error: $DIR/scopegate.toml:4:1: `[permissions]` reads its names from the claim \
                 `scope`, which is also `[token]`'s type claim: one claim cannot carry both a \
                 token type and permissions; name another claim for one of them, e.g. \
                 `claim = \"scp\"` in `[permissions]`",
            ],
        ),
        (
            "no-token-table",
            "[owners.\"account:self\"]\nparam = \"account\"\n".into(),
            &[
                "error: $DIR/scopegate.toml:1:1: no `[token]` table: declare this crate's token \
               types, e.g. `[token]` with `types = [\"execution\", \"workload\"]` and \
               `default = \"execution\"`, or its permissions in `[permissions]` with \
               `names = [..]`",
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (case, toml, expected) in cases {
        let fixture = Fixture::new(case, Some(toml), ONE_ROUTE);
        let errors = fixture.errors();
        if errors != *expected {
            failures.push(format!(
                "{case}:\n  got      {errors:?}\n  expected {expected:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Airflow's vocabulary, written out (SPEC §6's example).
const AIRFLOW: &str = r#"
[token]
types = ["execution", "workload"]
default = "execution"

[owners."ti:self"]
param = "task_instance_id"
label = "task instance ID"

[owners."ct:self"]
param = "connection_test_id"
label = "connection test ID"
"#;

/// The same, without the workload type.
const EXECUTION_ONLY: &str = r#"
[token]
types = ["execution"]
default = "execution"

[owners."ti:self"]
param = "task_instance_id"
label = "task instance ID"
"#;

const RUN: &str = r#"
#[scopegate::route(patch, "/task-instances/<task_instance_id>/run",
                   scopes = ["ti:self", "token:workload"])]
async fn run() -> &'static str {
    "running"
}

fn main() {
    let _ = actix_web::App::new().service(run);
}
"#;

/// The compiler tracks `scopegate.toml`: editing it makes the next build
/// read it again, with no source file touched. A route that takes
/// `token:workload` builds while the file declares `workload`, fails once
/// an edit removes it, and builds again once it is back.
#[test]
fn a_change_to_scopegate_toml_recompiles_the_crate() {
    let fixture = Fixture::new("tracking", Some(AIRFLOW), RUN);
    let check = |what: &str| {
        let (out, secs) = fixture.cargo("check");
        eprintln!("tracking, {what}: cargo check in {secs:.1} s");
        out
    };
    let out = check("first build");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    fixture.write_toml(Some(EXECUTION_ONLY));
    assert_eq!(
        fixture.errors(),
        [
            "error: unknown scope `token:workload`: `workload` is not a token type of this crate: \
          write one of `token:execution`, `ti:self`, or add \"workload\" to `types` in \
          $DIR/scopegate.toml"
        ],
        "the edited file is read again"
    );

    fixture.write_toml(Some(AIRFLOW));
    let out = check("file restored");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What the README says about a *new* `scopegate.toml`: a crate built
/// without one did not tell the compiler to watch for it (there was no file
/// to include), so the first build after adding it is stale until a source
/// file is touched. If cargo ever notices on its own, this test fails and
/// the README's advice can go.
#[test]
fn adding_scopegate_toml_takes_effect_once_a_source_file_is_touched() {
    let fixture = Fixture::new("adding", None, RUN);
    let (out, _) = fixture.cargo("check");
    assert!(
        out.status.success(),
        "Airflow's vocabulary has token:workload"
    );

    fixture.write_toml(Some(EXECUTION_ONLY));
    let (out, _) = fixture.cargo("check");
    assert!(
        out.status.success(),
        "the new file is not seen before a source file changes"
    );

    let main = fixture.dir.join("src/main.rs");
    let now = std::time::SystemTime::now() + std::time::Duration::from_secs(1);
    std::fs::File::options()
        .write(true)
        .open(&main)
        .unwrap()
        .set_modified(now)
        .unwrap();
    let errors = fixture.errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("`workload` is not a token type of this crate"),
        "{errors:?}"
    );
    // Back to no file for the next run.
    fixture.write_toml(None);
}

/// A ledger service's words: two token types in the `role` claim, an
/// owner compared byte for byte on a string id and a UUID owner.
const LEDGER: &str = r#"
[token]
claim = "role"
types = ["clerk", "auditor"]
default = "clerk"

[owners."account:self"]
param = "account"
claim = "acct"
compare = "exact"
label = "account"

[owners."entry:self"]
param = "entry_id"
label = "entry ID"
"#;

/// Every rule of §1/§2 and the ownership lint, in the crate's own words.
#[test]
fn a_crates_own_words_follow_every_rule() {
    let main = r#"
use actix_web::HttpResponse;

#[scopegate::route(get, "/books", scopes = ["token:auditors"])]
async fn typo_in_a_type() -> HttpResponse { HttpResponse::Ok().finish() }

#[scopegate::route(get, "/books", scopes = ["token:execution"])]
async fn another_crates_type() -> HttpResponse { HttpResponse::Ok().finish() }

#[scopegate::route(get, "/accounts/<account>", scopes = ["acount:self"])]
async fn typo_in_an_owner() -> HttpResponse { HttpResponse::Ok().finish() }

#[scopegate::route(get, "/entries", scopes = ["entry:self"])]
async fn owner_without_its_parameter() -> HttpResponse { HttpResponse::Ok().finish() }

#[scopegate::route(get, "/accounts/<account>/balance")]
async fn unowned_by_accident() -> HttpResponse { HttpResponse::Ok().finish() }

fn main() {}
"#;
    let fixture = Fixture::new("own-words", Some(LEDGER), main);
    assert_eq!(
        fixture.errors(),
        [
            "error: unknown scope `token:auditors`: did you mean `token:auditor`?",
            "error: unknown scope `token:execution`: `execution` is not a token type of this \
             crate: write one of `token:clerk`, `token:auditor`, `account:self`, `entry:self`, or \
             add \"execution\" to `types` in $DIR/scopegate.toml",
            "error: unknown scope `acount:self`: did you mean `account:self`?",
            "error: `entry:self` needs the path parameter `entry_id`, but \"/entries\" has none: \
             add `<entry_id>` to the path, or remove `entry:self`",
            "error: \"/accounts/<account>/balance\" has the path parameter `account`, which \
             `account:self` guards, but this route does not check it: add \"account:self\" to \
             its scopes, or write `unowned = [\"account\"]` if any allowed token may use any \
             account here",
        ]
    );
}

/// These crates are the workspace's only builds without scopegate's
/// `openapi` feature: there, `request = T` and `responses(..)` still name
/// their types, so a route compiles the same with or without it.
#[test]
fn openapi_options_name_their_types_without_the_feature() {
    let main = r#"
#![deny(warnings)]
use actix_web::{web, HttpResponse};

mod models {
    pub struct Entry;
    pub struct Conflict;
}
// Used only by the routes' options.
use models::{Conflict, Entry};

#[scopegate::route(post, "/entries", public, request = Entry, responses(201 = Entry, 409 = Conflict))]
async fn add(_body: web::Bytes) -> HttpResponse { HttpResponse::Created().finish() }

fn main() {
    let _ = actix_web::App::new().service(add);
}
"#;
    let fixture = Fixture::new("openapi-off", None, main);
    let (out, _) = fixture.cargo("check");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let misspelt = main.replace("409 = Conflict", "409 = Confilct");
    let fixture = Fixture::new("openapi-off-misspelt", None, &misspelt);
    let errors = fixture.errors();
    assert!(
        errors.iter().any(|e| e.contains("Confilct")),
        "a misspelt body type is an error without the feature too: {errors:?}"
    );
}

/// The notes service's words (issue 24): names as subjects, said once,
/// under `[token]`.
const NOTES: &str = r#"
[token]
claim = "kind"
types = ["user", "service"]
default = "user"
subject = "any"

[owners."owner:self"]
param = "owner"
compare = "exact"
label = "owner"
"#;

/// Issue 24: `subject = "any"` in `scopegate.toml` reaches the crate's
/// `vocabulary!()`, and a verifier built from that vocabulary accepts a
/// name as `sub` with no `.subject(..)` call (tests/testing_kit.rs checks
/// the kit and the verifier in depth); without the key, subjects stay
/// UUIDs.
#[test]
fn subject_any_in_scopegate_toml_reaches_the_verifier() {
    let main = r#"
#![deny(warnings)]
use scopegate::{Issuer, SigningKey, SubjectFormat, TokenType, VerificationKey, Verifier, Vocabulary};

const VOCABULARY: Vocabulary = scopegate::vocabulary!();

fn main() {
    let secret = [7u8; 64];
    let issuer = Issuer::builder(SigningKey::secret(&secret).unwrap())
        .audience("urn:example:notes")
        .vocabulary(&VOCABULARY)
        .build()
        .unwrap();
    let token = issuer.issue("alice", TokenType::new("user")).unwrap();
    let verifier = Verifier::builder(VerificationKey::secret(&secret).unwrap())
        .audience("urn:example:notes")
        .vocabulary(&VOCABULARY)
        .build()
        .unwrap();
    let verified = verifier.verify(&token);
    println!("{:?} {}", VOCABULARY.subject(), verified.is_ok());
    let _ = SubjectFormat::Any;
}
"#;
    for (case, toml, expected) in [
        ("subject-any", NOTES.to_owned(), "Any true"),
        (
            "subject-default",
            NOTES.replace("subject = \"any\"\n", ""),
            "Uuid false",
        ),
    ] {
        let fixture = Fixture::new(case, Some(&toml), main);
        let (out, secs) = fixture.cargo("run");
        eprintln!("{case}: cargo run in {secs:.1} s");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            expected,
            "{case}"
        );
    }
}

/// Issue 24: a mistake in `scopegate.toml` is reported once, though
/// `vocabulary!()` and every `#[routes]` group and `#[route]` read the
/// file (it was reported by each of them).
#[test]
fn a_mistake_in_scopegate_toml_is_reported_once() {
    let main = r#"
const VOCABULARY: scopegate::Vocabulary = scopegate::vocabulary!();

#[scopegate::routes(prefix = "/notes")]
mod notes {
    use actix_web::HttpResponse;

    #[route(get, "/")]
    async fn list() -> HttpResponse { HttpResponse::Ok().finish() }
}

#[scopegate::route(get, "/health", public)]
async fn health() -> &'static str {
    "ok"
}

fn main() {
    let _ = (VOCABULARY, notes::ROUTES);
    let _ = actix_web::App::new().service(health).configure(notes::configure);
}
"#;
    let fixture = Fixture::new(
        "reported-once",
        Some("[token]\ntypes = [\"user\"]\ndefault = \"users\"\n"),
        main,
    );
    assert_eq!(
        fixture.errors(),
        [
            "error: $DIR/scopegate.toml:3:11: `default = \"users\"` is not one of `types`: \
          did you mean `user`?"
        ]
    );
}

/// A ledger's words with permissions in `scope` (the type is in `role`).
const LEDGER_PERMISSIONS: &str = r#"
[token]
claim = "role"
types = ["clerk", "auditor"]
default = "clerk"

[owners."account:self"]
param = "account"
claim = "acct"
compare = "exact"

[permissions]
names = ["reports:read", "entries:write", "ledger:admin"]
"#;

/// Permission names follow every rule of scopes, in the crate's own words.
#[test]
fn permission_names_follow_every_rule() {
    let main = r#"
use actix_web::HttpResponse;

#[scopegate::route(get, "/reports", scopes = ["reports:reed"])]
async fn typo_in_a_permission() -> HttpResponse { HttpResponse::Ok().finish() }

#[scopegate::route(get, "/accounts/<account>/summary", scopes = [any("account:self", "ledger:admn")])]
async fn typo_inside_any() -> HttpResponse { HttpResponse::Ok().finish() }

#[scopegate::route(get, "/books", scopes = ["audit:read"])]
async fn not_declared() -> HttpResponse { HttpResponse::Ok().finish() }

#[scopegate::route(get, "/accounts/<account>/books", scopes = [any("account:self", "ledger:admin")])]
async fn owner_or_admin() -> HttpResponse { HttpResponse::Ok().finish() }

fn main() {}
"#;
    let fixture = Fixture::new("permission-words", Some(LEDGER_PERMISSIONS), main);
    assert_eq!(
        fixture.errors(),
        [
            "error: unknown scope `reports:reed`: did you mean `reports:read`?",
            "error: unknown scope `ledger:admn`: did you mean `ledger:admin`?",
            "error: unknown scope `audit:read`: write one of `token:clerk`, `token:auditor`, \
             `account:self`, `reports:read`, `entries:write`, `ledger:admin`, or add \
             \"audit:read\" to `names` in `[permissions]` of $DIR/scopegate.toml",
        ]
    );
}

/// Issue 24: a crate's own trybuild cases see its own `scopegate.toml`
/// (runtime/doc/testing.md's guide). `tests/fixtures/own-vocabulary` is a
/// notes service whose cases pin "did you mean `owner:self`?" and
/// "did you mean `token:service`?" and SPEC §6's "`TiToken` under
/// `subject = \"any\"`" error, and whose passing case compiles only in its
/// words; trybuild used to compile them in Airflow's.
#[test]
fn a_crates_trybuild_cases_use_its_own_scopegate_toml() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = root.join("tests/fixtures/own-vocabulary");
    // The workspace's versions, so the build shares the other fixtures'
    // dependencies.
    std::fs::copy(root.join("Cargo.lock"), fixture.join("Cargo.lock")).unwrap();
    let start = Instant::now();
    let out = Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--test", "ui", "--manifest-path"])
        .arg(fixture.join("Cargo.toml"))
        .args(["--", "--nocapture"])
        .env("CARGO_TARGET_DIR", target_dir().join("tests/trybuild"))
        .env_remove("RUSTFLAGS")
        .env_remove("TRYBUILD")
        .output()
        .expect("cargo test");
    eprintln!(
        "own-vocabulary: cargo test --test ui in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let stdout = without_colours(&String::from_utf8_lossy(&out.stdout));
    let stderr = without_colours(&String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "{}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let report = format!("{stdout}{stderr}");
    for case in [
        "owner-typo-fail.rs",
        "service-typo-fail.rs",
        "ti-token-fail.rs",
        "own-words-ok.rs",
    ] {
        let prefix = format!("test tests/ui/{case} ");
        assert!(
            report
                .lines()
                .any(|l| l.starts_with(&prefix) && l.trim_end().ends_with("... ok")),
            "{case} did not pass:\n{report}"
        );
    }
}

/// `text` without its ANSI colour sequences (trybuild colours its report).
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ ... m
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Without `[token]`, tokens have no type: a `token:*` scope says so.
#[test]
fn a_crate_without_types_refuses_token_scopes() {
    let main = r#"
use actix_web::HttpResponse;

#[scopegate::route(get, "/notes", scopes = ["token:user", "notes:read"])]
async fn typed() -> HttpResponse { HttpResponse::Ok().finish() }

#[scopegate::route(get, "/notes/<owner>", scopes = [any("owner:self", "token:service")])]
async fn predicate() -> HttpResponse { HttpResponse::Ok().finish() }

fn main() {}
"#;
    let toml = "[permissions]\nclaim = \"scp\"\nnames = [\"notes:read\"]\n\
                [owners.\"owner:self\"]\nparam = \"owner\"\ncompare = \"exact\"\n";
    let fixture = Fixture::new("no-types", Some(toml), main);
    assert_eq!(
        fixture.errors(),
        [
            "error: `token:user`: this crate's tokens have no type, as $DIR/scopegate.toml \
             declares `[permissions]` and no `[token]`: remove `token:user`, or declare the types \
             in a `[token]` table, e.g. `types = [\"user\"]`",
            "error: `token:service`: this crate's tokens have no type, as $DIR/scopegate.toml \
             declares `[permissions]` and no `[token]`: remove `token:service`, or declare the \
             types in a `[token]` table, e.g. `types = [\"service\"]`",
        ]
    );
}
