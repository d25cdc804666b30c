//! The attack catalogue: hostile tokens, headers and paths sent to the
//! example server over raw TCP (so any byte can be sent), plus the attacks
//! that need another key type through the library's public API. Every case
//! must be refused with 401 (or 400/431 where the HTTP layer refuses first):
//! never a 2xx, never a 5xx. Self-scope path tricks also check task B's
//! state afterwards.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey};
use scopegate::testing::TestAuth;
use scopegate::{InvalidReason, JwksSource, VerificationKey, Verifier};
use serde_json::{json, Map, Value};
use uuid::Uuid;

const SERVER_SECRET: &str = "attack-catalogue-secret-of-64-bytes-or-more-as-rfc-7518-asks-hs512";

/// The example server, started as users start it.
struct Server {
    child: Child,
    addr: String,
    /// (task instance id, workload token) per queued task.
    queued: Vec<(Uuid, String)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(queue: usize) -> Server {
        let mut child = Command::new(example_binary())
            .args([
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--queue",
                &queue.to_string(),
            ])
            .args(["--secret", SERVER_SECRET])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the example server");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut queued = Vec::new();
        for _ in 0..queue {
            let line: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
            queued.push((
                line["task_instance_id"].as_str().unwrap().parse().unwrap(),
                line["workload_token"].as_str().unwrap().to_owned(),
            ));
        }
        let line: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        let url = line["listening"].as_str().unwrap();
        let addr = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        Server {
            child,
            addr,
            queued,
        }
    }

    /// Sends raw request bytes; returns the status and the body.
    fn raw(&self, request: &[u8]) -> (u16, String) {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // A server that closes early (431, 400) may reset a large write.
        let _ = stream.write_all(request);
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no HTTP response: {text:?}"));
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
        (status, body)
    }

    /// `method path` with the given raw header lines and an optional JSON body.
    fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[&[u8]],
        body: Option<&Value>,
    ) -> (u16, String) {
        let mut req = format!(
            "{method} /execution{path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        )
        .into_bytes();
        for h in headers {
            req.extend_from_slice(h);
            req.extend_from_slice(b"\r\n");
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        req.extend_from_slice(
            format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        self.raw(&req)
    }

    fn with_token(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (u16, String) {
        let auth = format!("Authorization: Bearer {token}");
        self.send(method, path, &[auth.as_bytes()], body)
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with a hand-written header and payload, HMAC-signed with the
/// server's own secret unless `secret` says otherwise.
fn handmade(header: &str, payload: &str, alg: Algorithm, secret: &[u8]) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let key = EncodingKey::from_secret(secret).unwrap();
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, alg).unwrap();
    format!("{input}.{sig}")
}

fn good_claims(sub: Uuid) -> Map<String, Value> {
    claims(sub, Some("execution"))
}

fn signed(claims: &Map<String, Value>) -> String {
    sign(
        claims,
        Algorithm::HS512,
        &EncodingKey::from_secret(SERVER_SECRET.as_bytes()).unwrap(),
    )
}

/// Refused before the handler: 401, or 400/431 from the HTTP layer.
fn assert_refused(case: &str, (status, body): (u16, String)) {
    assert!(
        matches!(status, 401 | 400 | 431),
        "{case}: expected 401/400/431, got {status} {body}"
    );
}

fn assert_401(case: &str, (status, body): (u16, String)) {
    assert_eq!(status, 401, "{case}: {body}");
}

const VAR: &str = "/variables/attack_target";

#[test]
fn hostile_tokens_are_refused() {
    let server = Server::start(0);
    let sub = Uuid::new_v4();
    let secret = SERVER_SECRET.as_bytes();
    let payload = serde_json::to_string(&good_claims(sub)).unwrap();
    let valid = signed(&good_claims(sub));
    // The control: the same route takes a valid token.
    assert!(matches!(
        server.with_token("GET", VAR, &valid, None).0,
        200 | 404
    ));
    let mut cases: Vec<(String, String)> = Vec::new();
    let mut case = |name: &str, token: String| cases.push((name.to_owned(), token));

    // alg: none in any casing, with and without a signature.
    for alg in ["none", "None", "NONE", "nOnE"] {
        let unsigned = format!(
            "{}.{}",
            b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes()),
            b64(payload.as_bytes())
        );
        case(
            &format!("alg {alg}, empty signature"),
            format!("{unsigned}."),
        );
        case(
            &format!("alg {alg}, bogus signature"),
            format!("{unsigned}.c2ln"),
        );
    }
    // Signature stripped, empty, truncated, altered.
    let (input, sig) = valid.rsplit_once('.').unwrap();
    case("signature stripped", input.to_owned());
    case("signature empty", format!("{input}."));
    case(
        "signature truncated",
        format!("{input}.{}", &sig[..sig.len() / 2]),
    );
    case(
        "signature of another secret",
        handmade(r#"{"alg":"HS512"}"#, &payload, Algorithm::HS512, b"guess"),
    );
    // Segment counts.
    let parts: Vec<&str> = valid.split('.').collect();
    case("two segments", format!("{}.{}", parts[0], parts[1]));
    case("four segments", format!("{valid}.{}", parts[2]));
    case(
        "five segments",
        format!("{valid}.{}.{}", parts[1], parts[2]),
    );
    // Bad base64url.
    case(
        "padding",
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
    );
    // '+' and '/' belong to base64's standard alphabet, never to base64url:
    // one in each segment, so the token differs whatever its bytes are.
    case(
        "standard alphabet",
        format!(
            "+{}./{}.+{}",
            &parts[0][1..],
            &parts[1][1..],
            &parts[2][1..]
        ),
    );
    case(
        "not base64 at all",
        format!("!!!.{}.{}", parts[1], parts[2]),
    );
    // Header or payload that is not a JSON object (correctly signed).
    for (what, json) in [
        ("array", "[]"),
        ("string", "\"x\""),
        ("number", "1"),
        ("garbage", "{alg"),
    ] {
        case(
            &format!("header is {what}"),
            handmade(json, &payload, Algorithm::HS512, secret),
        );
        case(
            &format!("payload is {what}"),
            handmade(r#"{"alg":"HS512"}"#, json, Algorithm::HS512, secret),
        );
    }
    // Attacker keys in the header are ignored: signed with the attacker's
    // secret, they fail the signature check against ours.
    for field in [
        r#""jwk":{"kty":"oct","k":"YXR0YWNrZXI"}"#,
        r#""jku":"http://127.0.0.1:1/jwks.json""#,
        r#""x5u":"http://127.0.0.1:1/cert.pem""#,
        r#""x5c":["MIIB"]"#,
    ] {
        let header = format!(r#"{{"alg":"HS512",{field}}}"#);
        case(
            &format!("header {field}"),
            handmade(&header, &payload, Algorithm::HS512, b"attacker"),
        );
    }
    // An unknown critical header, correctly signed.
    case(
        "crit",
        handmade(
            r#"{"alg":"HS512","crit":["exp"],"exp":1}"#,
            &payload,
            Algorithm::HS512,
            secret,
        ),
    );
    // Duplicate header keys: a second alg.
    case(
        "duplicate alg",
        handmade(
            r#"{"alg":"HS512","alg":"none"}"#,
            &payload,
            Algorithm::HS512,
            secret,
        ),
    );
    // kid values are never used to find files: forged tokens with hostile kids.
    for kid in ["../../../../etc/passwd", &"k".repeat(4000), "a\u{0000}b"] {
        let header = json!({"alg": "HS512", "kid": kid}).to_string();
        case(
            "hostile kid",
            handmade(&header, &payload, Algorithm::HS512, b"attacker"),
        );
    }
    // Registered claims of the wrong type or range, correctly signed.
    let now = now();
    for claim in ["exp", "nbf", "iat"] {
        for value in [
            json!("1800000000"),
            json!(now as f64 + 0.5),
            json!(-1),
            json!(u64::MAX),
            json!(1e300),
            json!(null),
        ] {
            let mut c = good_claims(sub);
            c.insert(claim.into(), value.clone());
            case(&format!("{claim} = {value}"), signed(&c));
        }
    }
    for value in [
        json!(42),
        json!(format!("{{{sub}}}")),
        json!(format!("urn:uuid:{sub}")),
        json!(sub.simple().to_string()),
        json!([sub]),
    ] {
        let mut c = good_claims(sub);
        c.insert("sub".into(), value.clone());
        case(&format!("sub = {value}"), signed(&c));
    }
    for value in [
        json!(["execution"]),
        json!("w\u{043e}rkload"),
        json!("execution "),
        json!("EXECUTION"),
        json!(1),
    ] {
        let mut c = good_claims(sub);
        c.insert("scope".into(), value.clone());
        case(&format!("scope = {value}"), signed(&c));
    }
    let mut c = good_claims(sub);
    c.insert("aud".into(), json!(["urn:other", "urn:another"]));
    case("aud list without ours", signed(&c));
    // Duplicate claims: the second `sub` or `scope` must not win silently.
    let body = payload.trim_end_matches('}');
    case(
        "duplicate sub",
        handmade(
            r#"{"alg":"HS512"}"#,
            &format!(r#"{body},"sub":"{}"}}"#, Uuid::new_v4()),
            Algorithm::HS512,
            secret,
        ),
    );
    case(
        "duplicate scope",
        handmade(
            r#"{"alg":"HS512"}"#,
            &format!(r#"{body},"scope":"workload"}}"#),
            Algorithm::HS512,
            secret,
        ),
    );
    // Deeply nested JSON in an extra claim, within the 8 KiB token limit
    // (serde_json's depth limit refuses it; nothing recurses unbounded).
    let deep = format!(r#"{body},"x":{}{}}}"#, "[".repeat(2_000), "]".repeat(2_000));
    case(
        "deeply nested claims",
        handmade(r#"{"alg":"HS512"}"#, &deep, Algorithm::HS512, secret),
    );
    let deep_header = format!(
        r#"{{"alg":"HS512","x":{}{}}}"#,
        "[".repeat(2_000),
        "]".repeat(2_000)
    );
    case(
        "deeply nested header",
        handmade(&deep_header, &payload, Algorithm::HS512, secret),
    );

    let n = cases.len();
    for (name, token) in &cases {
        assert_401(name, server.with_token("GET", VAR, token, None));
    }
    // The control is still fine afterwards: nothing crashed the server.
    assert!(matches!(
        server.with_token("GET", VAR, &valid, None).0,
        200 | 404
    ));
    println!("hostile tokens refused: {n}");
    assert!(n >= 68, "catalogue shrank to {n}");
}

#[test]
fn aud_as_a_list_with_our_audience_is_accepted() {
    // RFC 7519 §4.1.3: a list naming us is valid. The control for the
    // "without" case above.
    let server = Server::start(0);
    let mut c = good_claims(Uuid::new_v4());
    c.insert("aud".into(), json!(["urn:other", AUDIENCE]));
    assert!(matches!(
        server.with_token("GET", VAR, &signed(&c), None).0,
        200 | 404
    ));
}

#[test]
fn hostile_headers_are_refused() {
    let server = Server::start(0);
    let valid = signed(&good_claims(Uuid::new_v4()));
    let huge = format!("Authorization: Bearer {}", "a".repeat(1 << 20));
    let cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("1 MB header", vec![huge.into_bytes()]),
        (
            "tab inside the token",
            vec![format!("Authorization: Bearer {}\t{}", &valid[..10], &valid[10..]).into_bytes()],
        ),
        (
            "NUL inside the token",
            vec![[
                b"Authorization: Bearer ".as_slice(),
                &valid.as_bytes()[..10],
                b"\0",
                &valid.as_bytes()[10..],
            ]
            .concat()],
        ),
        (
            "non-ASCII inside the token",
            vec![[
                b"Authorization: Bearer ".as_slice(),
                valid.as_bytes(),
                "é".as_bytes(),
            ]
            .concat()],
        ),
        (
            "raw 0xff byte",
            vec![[b"Authorization: Bearer \xff".as_slice(), valid.as_bytes()].concat()],
        ),
        (
            "two Authorization headers",
            vec![
                format!("Authorization: Bearer {valid}").into_bytes(),
                format!("Authorization: Bearer {valid}").into_bytes(),
            ],
        ),
        ("empty bearer", vec![b"Authorization: Bearer ".to_vec()]),
        ("scheme only", vec![b"Authorization: Bearer".to_vec()]),
        (
            "Basic scheme",
            vec![b"Authorization: Basic dXNlcjpwYXNz".to_vec()],
        ),
        (
            "CR LF injection attempt",
            vec![format!("Authorization: Bearer {valid}\r\nX-Injected: 1").into_bytes()],
        ),
    ];
    let n = cases.len();
    for (name, headers) in cases {
        let refs: Vec<&[u8]> = headers.iter().map(Vec::as_slice).collect();
        let got = server.send("GET", VAR, &refs, None);
        if name == "CR LF injection attempt" {
            // Two well-formed header lines: the token itself is valid.
            assert!(matches!(got.0, 200 | 404), "{name}: {got:?}");
        } else {
            assert_refused(name, got);
        }
    }
    println!("hostile headers refused: {}", n - 1);
}

/// A cache hit skips the `b64token` charset scan, so a token that fails
/// the scan must never be a hit: every hostile variant of a token that is
/// in the cache (same length and same last bytes, which is all the cache
/// hashes, or framed with bytes the scan refuses) is refused.
#[test]
fn hostile_variants_of_a_cached_token_are_refused() {
    let server = Server::start(0);
    let valid = signed(&good_claims(Uuid::new_v4()));
    // Verified and cached: the variable does not exist, but the token is
    // allowed, so the handler answers.
    let (status, body) = server.with_token("GET", VAR, &valid, None);
    assert!(matches!(status, 200 | 404), "valid token: {status} {body}");
    let mut variants: Vec<(String, Vec<u8>)> = Vec::new();
    // One byte of the header segment replaced by a byte outside
    // `b64token`: same length, same tail, so the same hash as the entry.
    for bad in [b'!', b'*', b'\\', b'"', b',', b';', b'\x7f', b'\x01'] {
        let mut token = valid.clone().into_bytes();
        token[3] = bad;
        variants.push((format!("byte {bad:#04x} in the header"), token));
    }
    // The payload replaced by another of the same length, the signature
    // kept: the same hash as the entry, different bytes.
    let dot = valid.find('.').unwrap();
    let mut swapped = valid.clone().into_bytes();
    swapped[dot + 1] = if swapped[dot + 1] == b'e' { b'f' } else { b'e' };
    variants.push(("payload changed, signature kept".into(), swapped));
    variants.push((
        "trailing non-ASCII".into(),
        [valid.as_bytes(), "\u{e9}".as_bytes()].concat(),
    ));
    variants.push((
        "leading NUL".into(),
        [b"\0".as_slice(), valid.as_bytes()].concat(),
    ));
    for (name, token) in variants {
        let header = [b"Authorization: Bearer ".as_slice(), &token].concat();
        assert_refused(&name, server.send("GET", VAR, &[&header], None));
    }
    // The cached token itself still passes.
    let (status, body) = server.with_token("GET", VAR, &valid, None);
    assert!(
        matches!(status, 200 | 404),
        "valid token again: {status} {body}"
    );
}

/// Task A's token must never act on task B, whatever the path looks like.
#[test]
fn path_tricks_never_let_a_act_on_b() {
    let server = Server::start(2);
    let (a, a_workload) = server.queued[0].clone();
    let (b, b_workload) = server.queued[1].clone();
    let run_body =
        json!({"hostname": "h", "unixname": "u", "pid": 1, "start_date": "2026-01-01T00:00:00Z"});
    // A starts and gets its execution token.
    let (status, _) = server.with_token(
        "PATCH",
        &format!("/task-instances/{a}/run"),
        &a_workload,
        Some(&run_body),
    );
    assert_eq!(status, 200);
    let a_exec = scopegate::Issuer::builder(scopegate::SigningKey::secret(SERVER_SECRET).unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap()
        .issue(a, scopegate::TokenType::EXECUTION)
        .unwrap();

    let b_upper = b.to_string().to_uppercase();
    let tricks = [
        format!("/task-instances/{b}/run"),
        format!("/task-instances/{b_upper}/run"),
        format!("/task-instances/{a}%2F..%2F{b}/run"),
        format!("/task-instances/{a}/../{b}/run"),
        format!("/task-instances/{a}/%2e%2e/{b}/run"),
        format!("/task-instances//{b}/run"),
        format!("/task-instances/{b}/run/"),
        format!("/task-instances/{b}//run"),
        format!("/task-instances/%7B{b}%7D/run"),
        format!("/task-instances/{{{b}}}/run"),
        format!("/task-instances/{b}%00/run"),
        format!("/task-instances/{a}%00{b}/run"),
        format!("/task-instances/{b}%2Frun"),
        format!("/task-instances/urn:uuid:{b}/run"),
        format!("/task-instances/{}/run", b.simple()),
        format!("/task-instances/%62{}/run", &b.to_string()[1..]),
    ];
    for token in [&a_workload, &a_exec] {
        for path in &tricks {
            let (status, body) = server.with_token("PATCH", path, token, Some(&run_body));
            assert!(
                (400..500).contains(&status),
                "{path}: A's token got {status} {body}"
            );
            let state_path = path.replace("/run", "/state");
            let (status, body) = server.with_token(
                "PATCH",
                &state_path,
                token,
                Some(&json!({"state": "success", "end_date": "2026-01-01T00:00:00Z"})),
            );
            assert!(
                (400..500).contains(&status),
                "{state_path}: A's token got {status} {body}"
            );
        }
    }
    // B is untouched: still queued, so B's own workload token starts it (a
    // second start would be a 409).
    let (status, body) = server.with_token(
        "PATCH",
        &format!("/task-instances/{b}/run"),
        &b_workload,
        Some(&run_body),
    );
    assert_eq!(status, 200, "B was moved by A: {body}");
    // And A's tricks on B's heartbeat now that B runs: still refused.
    for path in &tricks {
        let hb = path.replace("/run", "/heartbeat");
        let (status, body) = server.with_token(
            "PUT",
            &hb,
            &a_exec,
            Some(&json!({"hostname": "h", "pid": 1})),
        );
        assert!((400..500).contains(&status), "{hb}: {status} {body}");
    }
    println!("path tricks refused: {}", tricks.len() * 5);
}

// ---- Through the library's public API: other key types ------------------------

#[test]
fn hmac_signed_with_the_rsa_public_key_is_refused() {
    let public = key_file("rsa_public.pem");
    let verifier = Verifier::builder(VerificationKey::rsa_pem(&public).unwrap())
        .audience(AUDIENCE)
        .build()
        .unwrap();
    let c = serde_json::to_string(&claims(Uuid::new_v4(), None)).unwrap();
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        let header = json!({"alg": jws_name(alg)}).to_string();
        let token = handmade(&header, &c, alg, &public);
        assert_eq!(
            verifier.verify(&token).unwrap_err(),
            InvalidReason::AlgorithmNotAllowed,
            "{alg:?}"
        );
    }
}

fn jws_name(alg: Algorithm) -> String {
    serde_json::to_value(alg)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn psychic_signature_is_refused() {
    // CVE-2022-21449: an ECDSA signature with r = s = 0 verified on some JVMs.
    let verifier =
        Verifier::builder(VerificationKey::ec_pem(&key_file("ec_p256_public.pem")).unwrap())
            .audience(AUDIENCE)
            .build()
            .unwrap();
    let input = format!(
        "{}.{}",
        b64(br#"{"alg":"ES256","typ":"JWT"}"#),
        b64(serde_json::to_string(&claims(Uuid::new_v4(), None))
            .unwrap()
            .as_bytes())
    );
    for sig in [vec![0u8; 64], vec![0u8; 8], Vec::new()] {
        let token = format!("{input}.{}", b64(&sig));
        assert!(verifier.verify(&token).is_err(), "{} zero bytes", sig.len());
    }
    // The same key accepts a real ES256 signature: the check is real.
    let private = EncodingKey::from_ec_pem(&key_file("ec_p256_private.pem")).unwrap();
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &private, Algorithm::ES256).unwrap();
    assert!(verifier.verify(&format!("{input}.{sig}")).is_ok());
}

#[test]
fn very_deep_json_does_not_overflow_the_stack() {
    // Past the size limit of the HTTP path, straight into a verifier that
    // takes tokens of up to 8 MiB.
    let auth = TestAuth::builder().secret(SECRET).build().unwrap();
    let verifier = auth
        .verifier_builder()
        .max_token_size(8 << 20)
        .build()
        .unwrap();
    let deep = format!("{}{}", "[".repeat(1_000_000), "]".repeat(1_000_000));
    let as_header = handmade(
        &format!(r#"{{"alg":"HS512","x":{deep}}}"#),
        "{}",
        Algorithm::HS512,
        SECRET,
    );
    assert_eq!(
        verifier.verify(&as_header).unwrap_err(),
        InvalidReason::Malformed
    );
    let payload = format!(r#"{{"x":{deep}}}"#);
    let as_claims = handmade(r#"{"alg":"HS512"}"#, &payload, Algorithm::HS512, SECRET);
    assert_eq!(
        verifier.verify(&as_claims).unwrap_err(),
        InvalidReason::Malformed
    );
    // With the default 8 KiB limit, Verifier::verify refuses them unread.
    assert_eq!(
        auth.verifier().verify(&as_claims).unwrap_err(),
        InvalidReason::TooLarge
    );
}

#[actix_web::test]
async fn hostile_kids_never_touch_the_filesystem_with_a_jwks() {
    // With a JWKS the kid is only a map key: traversal, huge and NUL kids
    // are unknown keys.
    let path = std::env::temp_dir().join(format!("scopegate-attack-jwks-{}.json", Uuid::new_v4()));
    let issuer = scopegate::Issuer::builder(
        scopegate::SigningKey::ed_pem(&key_file("ed25519_private.pem")).unwrap(),
    )
    .audience(AUDIENCE)
    .build()
    .unwrap();
    std::fs::write(&path, serde_json::to_string(&issuer.jwks()).unwrap()).unwrap();
    // Large enough for the 100 KB kid: it must reach the key lookup.
    let verifier = Verifier::builder(JwksSource::File(path.clone()))
        .audience(AUDIENCE)
        .max_token_size(1 << 20)
        .load()
        .await
        .unwrap();
    let private = EncodingKey::from_ed_pem(&key_file("ed25519_private.pem")).unwrap();
    for kid in [
        "../../../../etc/passwd",
        "/dev/zero",
        &"k".repeat(100_000),
        "a\u{0000}b",
        "",
    ] {
        let mut header = jsonwebtoken::Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_owned());
        let token = jsonwebtoken::encode(&header, &claims(Uuid::new_v4(), None), &private).unwrap();
        assert_eq!(
            verifier.verify(&token).unwrap_err(),
            InvalidReason::UnknownKey
        );
    }
    std::fs::remove_file(path).unwrap();
}
