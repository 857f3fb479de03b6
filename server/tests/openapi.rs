//! The served OpenAPI document is valid OpenAPI, so client generators and other standard tooling
//! can read it: `openapi-spec-validator` checks `/api/v1/openapi.json`, as served, against the
//! specification (every response has a description, operation ids are unique, every `$ref`
//! resolves…). `./scripts/test` installs the validator (scripts/bootstrap.sh) and says where it is
//! in `CRIER_OPENAPI_VALIDATOR`; without it the test fails rather than pass unchecked. And every
//! error response is documented as the problem+json the server sends.

mod support;

use std::path::PathBuf;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::Value;
use support::TestApp;

/// The validator: `CRIER_OPENAPI_VALIDATOR`, or where scripts/bootstrap.sh installs it (so a plain
/// `cargo test` after one `./scripts/test` finds it too).
fn validator() -> PathBuf {
    let path = match std::env::var_os("CRIER_OPENAPI_VALIDATOR") {
        Some(path) => PathBuf::from(path),
        None => {
            let home = std::env::var_os("HOME").expect("HOME is set");
            PathBuf::from(home).join(".cache/crier/venv/bin/openapi-spec-validator")
        }
    };
    assert!(
        path.is_file(),
        "the OpenAPI validator is not at {}: run ./scripts/test once (it installs openapi-spec-validator), or set \
         CRIER_OPENAPI_VALIDATOR to an openapi-spec-validator executable",
        path.display()
    );
    path
}

#[tokio::test]
async fn the_served_openapi_document_passes_openapi_spec_validator() {
    let validator = validator();
    let app = TestApp::spawn().await;
    let response = reqwest::get(format!("{}/api/v1/openapi.json", app.base)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let served = response.bytes().await.unwrap();

    let file = tempfile::Builder::new().prefix("crier-openapi-").suffix(".json").tempfile().unwrap();
    std::fs::write(file.path(), &served).unwrap();
    // Every error, not only the first: one run says all that is wrong.
    let output = Command::new(&validator)
        .arg("--validation-errors")
        .arg("all")
        .arg(file.path())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", validator.display()));
    assert!(
        output.status.success(),
        "openapi-spec-validator rejects /api/v1/openapi.json ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn every_error_response_is_documented_as_the_problem_json_the_server_sends() {
    let app = TestApp::spawn().await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base)).await.unwrap().json().await.unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.contains_key("401"), "{method} {path} documents the 401 every operation can answer");
            for (status, response) in responses {
                if !status.starts_with(['4', '5']) {
                    continue;
                }
                // Errors are shared responses (one description each), not written out per operation.
                let name = response["$ref"]
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/responses/"))
                    .unwrap_or_else(|| panic!("{method} {path} {status} is not a reference to a shared response: {response}"));
                let shared = &doc["components"]["responses"][name];
                assert_eq!(
                    shared["content"]["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem",
                    "{name} ({method} {path} {status}) is a problem+json Problem: {shared}"
                );
                assert_eq!(
                    shared["content"]["application/problem+json"]["example"]["status"].as_u64().map(|s| s.to_string()).as_deref(),
                    Some(status.as_str()),
                    "{name} is documented under the status its example has ({method} {path})"
                );
            }
        }
    }
}
