//! The organizations a member administers (`GET /rest/organizationAcls?q=roleAssignee`) and an
//! organization's name (`GET /rest/organizations/{id}`): how a client finds the organizations it
//! may post as.

use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::Shared;
use super::consent::ORG_SCOPES;
use super::errors::{forbidden, rest_error};
use super::front_door::{authed, authed_rest, check_versions};
use crate::util;

/// `GET /rest/organizationAcls?q=roleAssignee[&role=ADMINISTRATOR][&state=APPROVED]`: the organizations
/// the member administers. Not in platforms.md: the shape of LinkedIn's Organization Access Control API.
pub(super) async fn organization_acls(
    AxumState(inner): Shared,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let auth = match authed_rest(&inner, &headers).await {
        Ok(auth) => auth,
        Err(response) => return response,
    };
    if !ORG_SCOPES.iter().any(|s| auth.has(s)) {
        return forbidden("Not enough permissions to access: organizationAcls.FINDER-roleAssignee");
    }
    if query.get("q").map(String::as_str) != Some("roleAssignee") {
        return rest_error(400, "ILLEGAL_ARGUMENT", "The finder \"q\" must be roleAssignee.");
    }
    let role = query.get("role").map(String::as_str).unwrap_or("ADMINISTRATOR");
    let acl_state = query.get("state").map(String::as_str).unwrap_or("APPROVED");
    let state = inner.lock();
    let orgs = state.linkedin.member(&auth.member_id).map(|m| m.orgs.clone()).unwrap_or_default();
    let elements: Vec<Value> = if role == "ADMINISTRATOR" && acl_state == "APPROVED" {
        orgs.iter()
            .map(|id| {
                json!({
                    "roleAssignee": format!("urn:li:person:{}", auth.member_id),
                    "state": "APPROVED",
                    "role": "ADMINISTRATOR",
                    "organization": format!("urn:li:organization:{id}"),
                })
            })
            .collect()
    } else {
        Vec::new()
    };
    let body = json!({"paging": {"count": 10, "start": 0, "total": elements.len(), "links": []}, "elements": elements});
    util::json(StatusCode::OK, &body, HeaderMap::new())
}

/// How the fake names its organizations' logo images: `urn:li:image:sandbox-logo-<org id>`.
pub(super) const LOGO_PREFIX: &str = "sandbox-logo-";

pub(super) async fn organization(AxumState(inner): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(response) = authed(&inner, &headers).await {
        return response;
    }
    if let Err(response) = check_versions(&inner, &headers) {
        return response;
    }
    let state = inner.lock();
    match state.linkedin.orgs.iter().find(|o| o.id.to_string() == id) {
        Some(o) => util::json(
            StatusCode::OK,
            &json!({
                "id": o.id,
                "localizedName": o.name,
                "vanityName": o.vanity,
                "name": {"localized": {"en_US": o.name}},
                // The Images API's `urn:li:image:<same id>` gives its download URL (see media.rs).
                "logoV2": {
                    "original": format!("urn:li:digitalmediaAsset:{LOGO_PREFIX}{}", o.id),
                    "cropped": format!("urn:li:digitalmediaAsset:{LOGO_PREFIX}{}", o.id),
                    "cropInfo": {"x": 0, "y": 0, "width": 0, "height": 0},
                },
            }),
            HeaderMap::new(),
        ),
        None => rest_error(404, "NOT_FOUND", &format!("Organization {id} not found")),
    }
}
