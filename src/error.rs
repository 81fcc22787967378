//! The one error type of the HTTP surface, rendered as Pipedrive's error envelope.
//!
//! Every failure a client can see goes through [`ApiError`]: validation, auth, unknown routes,
//! malformed bodies and store failures alike. Internal causes are logged here and never leaked.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::domain::DomainError;
use crate::domain::ports::StoreError;

/// What Pipedrive puts in `error_info` (in English; Pipedrive localises it).
pub const ERROR_INFO: &str =
    "Please check developers.pipedrive.com for more information about Pipedrive API.";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request names a bad value; the message says which field and why.
    #[error("{0}")]
    BadRequest(String),
    /// 400 for a missing required parameter, in the older shape Pipedrive's v1 search answers
    /// a missing `term` with: `error` is an object naming the failed fields.
    #[error("ServerError [ERR_INVALID_INPUT]: Invalid input: \"{0}\" is required")]
    InputRequired(String),
    /// 401: no token, or a token of no active user.
    #[error("unauthorized access")]
    Unauthorized,
    /// 403: the token's user may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: an unknown route, or an entity this token cannot see.
    #[error("{0}")]
    NotFound(String),
    /// 409: what the change builds on changed meanwhile; nothing was written.
    #[error("{0}")]
    Conflict(String),
    /// 422: the request is understood but a limit forbids it (Pipedrive's "Webhooks limit
    /// reached").
    #[error("{0}")]
    Unprocessable(String),
    /// 405: a known route with a method it does not serve.
    #[error("Method not allowed")]
    MethodNotAllowed,
    /// 413: a request body over the limit.
    #[error("Request body is too large: the limit is {0} bytes")]
    PayloadTooLarge(usize),
    /// 415: a body in a content type other than JSON or form-encoded.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 408: the client did not send its whole request in time.
    #[error("Request timeout: the request was not received within {0} s")]
    RequestTimeout(u64),
    /// 429: a rate limit is exhausted; retry after this many seconds.
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// 414: the request's URI is over the limit.
    #[error("{0}")]
    UriTooLong(String),
    /// 431: the request's headers are over a limit.
    #[error("{0}")]
    HeadersTooLarge(String),
    /// 503: the store cannot be reached or is overloaded; safe to retry.
    #[error("{0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected store failure. The cause is logged, not sent.
    #[error("Internal server error")]
    Internal(String),
}

impl ApiError {
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::BadRequest(msg.into())
    }

    /// A 400 for one field: `"<field>: <reason>"`.
    pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Self {
        Self::BadRequest(format!("{field}: {reason}"))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::InputRequired(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body of the envelope.
    pub fn body(&self) -> Value {
        if let Self::InputRequired(field) = self {
            return json!({
                "success": false,
                "error": {"message": self.to_string(), "code": 400, "failed_fields": [field]},
                "error_info": ERROR_INFO,
                "data": null,
                "additional_data": null,
            });
        }
        if matches!(self, Self::Unauthorized) {
            return json!({
                "success": false,
                "error": self.to_string(),
                "errorCode": 401,
                "error_info": ERROR_INFO,
                "data": null,
                "additional_data": null,
            });
        }
        json!({
            "success": false,
            "error": self.to_string(),
            "error_info": ERROR_INFO,
            "data": null,
            "additional_data": null,
        })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let status = self.status();
        let mut response = (status, axum::Json(self.body())).into_response();
        let retry_after = match &self {
            Self::Unavailable(_) => Some(1),
            Self::TooManyRequests { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if matches!(self, Self::RequestTimeout(_)) {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid { .. } | DomainError::Required(_) => {
                Self::BadRequest(e.to_string())
            }
            DomainError::NotFound(m) => Self::NotFound(m),
            DomainError::Forbidden(m) => Self::Forbidden(m),
            DomainError::Conflict(m) => Self::Conflict(m),
            DomainError::LimitReached(m) => Self::Unprocessable(m),
            // A uniqueness rule a write broke names the value (an email already taken): 400.
            DomainError::Store(StoreError::Conflict(m)) => Self::BadRequest(m),
            DomainError::Store(StoreError::Unavailable(m)) => Self::Unavailable(m),
            DomainError::Store(StoreError::Contended(m)) => Self::Conflict(m),
            DomainError::Store(StoreError::Refused(e)) => (*e).into(),
            DomainError::Store(StoreError::Internal(m)) | DomainError::Internal(m) => {
                Self::Internal(m)
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        DomainError::from(e).into()
    }
}
