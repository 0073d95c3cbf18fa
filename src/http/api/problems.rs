//! The error answers of the API, one reusable OpenAPI response per status: each is an
//! `application/problem+json` [`Problem`]. Handlers list them as
//! `(status = 404, response = inline(NotFound))`; which `code`s a handler answers is in its doc.

use utoipa::ToResponse;

use crate::http::errors::Problem;

macro_rules! problem_responses {
    ($($(#[$doc:meta])* $name:ident => $description:literal;)*) => {
        $(
            $(#[$doc])*
            #[derive(ToResponse)]
            #[response(description = $description, content_type = "application/problem+json")]
            #[allow(dead_code)] // only its OpenAPI description is used
            pub struct $name(Problem);
        )*
    };
}

problem_responses! {
    /// 400: a malformed body or header, or a query parameter that was not accepted.
    BadRequest => "The request was not accepted (`invalid_parameter`, or a malformed body or header)";
    /// 401: no bearer token, or one that is unknown, expired or revoked.
    Unauthorized => "No live bearer token (`unauthorized`)";
    /// 403: authenticated, but not allowed (a customer's token where an API key is needed).
    Forbidden => "Not allowed with these credentials (`forbidden`)";
    /// 404: no such resource (for orders: none for this token).
    NotFound => "No such resource (`not_found`)";
    /// 409: the resource is not in a state that allows this.
    Conflict => "Not possible in the resource's current state";
    /// 413: the body is over the limit.
    PayloadTooLarge => "The request body is too large (`payload_too_large`)";
    /// 422: a field did not validate, or an idempotency key was reused with another body.
    UnprocessableEntity => "The request did not validate (`validation_failed`, `idempotency_key_reused`)";
    /// 429: too many attempts.
    TooManyRequests => "Too many attempts (`rate_limited`)";
    /// 502: a provider did not answer.
    BadGateway => "A provider did not answer (`provider_unavailable`)";
}
