//! Every form outside an island is a plain HTML form. server_fn answers its post with a redirect
//! to the page it came from (the Referer), adding the error to that address (`__path`/`__err`)
//! when the function refused it. It appends to the address as it is: after a first refusal the
//! address already holds that error, so each further refusal would add one more pair, the address
//! growing with every try (the router reads the last pair, the browser's `URLSearchParams` the
//! first, which is what an island reads). The old pair is taken out of the Referer before the
//! server function sees it, so the address holds the latest refusal only; server_fn itself takes
//! it out after a success.

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::REFERER;
use axum::http::{HeaderValue, Method, Response};
use axum::middleware::Next;
use url::Url;

/// The query parameters server_fn carries a plain form post's error in.
const ERROR_PARAMS: [&str; 2] = ["__path", "__err"];

pub(super) async fn forget_previous_error(mut request: Request, next: Next) -> Response<Body> {
    if request.method() == Method::POST
        && let Some(clean) = request.headers().get(REFERER).and_then(|v| v.to_str().ok()).and_then(without_form_error)
        && let Ok(value) = HeaderValue::from_str(&clean)
    {
        request.headers_mut().insert(REFERER, value);
    }
    next.run(request).await
}

/// `referer` without a previous refusal's parameters, or `None` when it holds none.
fn without_form_error(referer: &str) -> Option<String> {
    let mut url = Url::parse(referer).ok()?;
    if !url.query_pairs().any(|(key, _)| ERROR_PARAMS.contains(&key.as_ref())) {
        return None;
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(key, _)| !ERROR_PARAMS.contains(&key.as_ref()))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    Some(url.into())
}

#[cfg(test)]
mod tests {
    use super::without_form_error;

    #[test]
    fn a_previous_refusal_is_taken_out_of_the_address_and_nothing_else() {
        assert_eq!(
            without_form_error("http://crier.test/posts/1?__path=%2Fapi%2Fposts%2Fedit&__err=eyJ4Ijp9").as_deref(),
            Some("http://crier.test/posts/1")
        );
        assert_eq!(
            without_form_error("http://crier.test/?view=month&__path=%2Fapi%2Fx&__err=e30&day=2030-06-01").as_deref(),
            Some("http://crier.test/?view=month&day=2030-06-01")
        );
        assert_eq!(without_form_error("http://crier.test/?view=month"), None, "an address without one is left alone");
        assert_eq!(without_form_error("not a url"), None);
    }
}
