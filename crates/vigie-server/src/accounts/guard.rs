//! Who may do what, said by a handler's signature: extractors a handler
//! takes instead of checking by hand, so that it cannot forget a check.
//!
//! - [`Staff`], [`Admin`]: a signed-in caller of these roles (403
//!   otherwise; anonymous callers are sent to sign in, as by [`Caller`]).
//! - [`VisibleCommune`]: the `{code}` path segment names a commune this
//!   caller may see (404 otherwise, the same answer as for a commune that
//!   does not exist).
//! - [`CsrfForm`]: a form whose `csrf` field is the session's (403
//!   otherwise; bearer-token callers need none). Role extractors run
//!   first, so a caller without the role is told 403 before its form is
//!   read.
//! - [`CsrfHeader`]: the same check for a script's request (JSON body),
//!   the token in `X-CSRF-Token`.
//!
//! A handler that takes none of them (nor `Caller`) is public, and is
//! declared so in the route table (`web::routes`).

use std::ops::Deref;

use axum::body::{Body, Bytes};
use axum::extract::{Form, FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::{Caller, Role};
use crate::territory::{self, Commune, CommuneCode};
use crate::{AppError, AppState};

/// A signed-in administrator or operator.
#[derive(Clone, Debug)]
pub struct Staff(pub Caller);

/// A signed-in administrator of the territory.
#[derive(Clone, Debug)]
pub struct Admin(pub Caller);

impl Deref for Staff {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl Deref for Admin {
    type Target = Caller;
    fn deref(&self) -> &Caller {
        &self.0
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.is_staff() {
            Ok(Staff(caller))
        } else {
            Err(AppError::Forbidden.into_response())
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.role == Role::Admin {
            Ok(Admin(caller))
        } else {
            Err(AppError::Forbidden.into_response())
        }
    }
}

/// The commune of the route's `{code}` segment, which the signed-in
/// caller may see. A segment that is no INSEE code is a commune that does
/// not exist.
#[derive(Clone, Debug)]
pub struct VisibleCommune(pub Commune);

impl FromRequestParts<AppState> for VisibleCommune {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some((_, code)) = params.iter().find(|(name, _)| *name == "code") else {
            return Err(AppError::Internal("route without {code}".to_owned()).into_response());
        };
        let Ok(code) = CommuneCode::parse(code) else {
            return Err(AppError::NotFound.into_response());
        };
        if !caller.can_see_commune(&code) {
            return Err(AppError::NotFound.into_response());
        }
        match territory::commune(&state.db, &code).await {
            Ok(Some(commune)) => Ok(VisibleCommune(commune)),
            Ok(None) => Err(AppError::NotFound.into_response()),
            Err(e) => Err(AppError::from(e).into_response()),
        }
    }
}

/// The header a session caller (a browser's script) carries its CSRF
/// token in, for a request whose body is not a form.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A request of a signed-in caller whose `X-CSRF-Token` header is the
/// session's CSRF token (bearer-token callers need none).
#[derive(Clone, Copy, Debug)]
pub struct CsrfHeader;

impl FromRequestParts<AppState> for CsrfHeader {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let token = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        caller
            .check_csrf(token)
            .map(|()| CsrfHeader)
            .map_err(IntoResponse::into_response)
    }
}

/// A form without fields of its own: only its CSRF token.
#[derive(serde::Deserialize, Default, Debug)]
pub struct NoFields {}

/// A form posted by a signed-in caller, with a valid CSRF token in its
/// `csrf` field (the form type need not declare it).
#[derive(Debug)]
pub struct CsrfForm<T = NoFields>(pub T);

#[derive(serde::Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let caller = Caller::from_request_parts(&mut parts, state).await?;
        let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let again = |bytes: Bytes| {
            let mut request = Request::new(Body::from(bytes));
            *request.method_mut() = Method::POST;
            if let Some(value) = &content_type {
                request
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, value.clone());
            }
            request
        };
        // The token first: a form without it is refused whatever else is
        // wrong with it.
        let token = Form::<CsrfOnly>::from_request(again(bytes.clone()), state)
            .await
            .map(|Form(form)| form.csrf)
            .unwrap_or_default();
        caller
            .check_csrf(&token)
            .map_err(IntoResponse::into_response)?;
        let Form(form) = Form::<T>::from_request(again(bytes), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(CsrfForm(form))
    }
}

/// A multipart form (files) posted by a signed-in caller. Its CSRF token
/// comes in `X-CSRF-Token` (a script: checked here) or as the form's
/// `csrf` field (a page: the handler reads the fields, then calls
/// [`CsrfMultipart::check`]). A body that is not a multipart form is
/// refused here when no header vouched for it (403), and otherwise only
/// when the handler asks for it ([`CsrfMultipart::form`]), after its own
/// checks: a commune's file route answers 404 for another commune first.
pub struct CsrfMultipart {
    form: Option<Result<axum::extract::Multipart, String>>,
    caller: Caller,
    header_ok: bool,
}

impl FromRequest<AppState> for CsrfMultipart {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let caller = Caller::from_request_parts(&mut parts, state).await?;
        let header_ok = caller.csrf.is_none()
            || parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|token| caller.check_csrf(token).is_ok());
        let form =
            axum::extract::Multipart::from_request(Request::from_parts(parts, body), state).await;
        match form {
            Err(_) if !header_ok => Err(AppError::CsrfRefused.into_response()),
            form => Ok(CsrfMultipart {
                form: Some(form.map_err(|rejection| {
                    format!(
                        "envoi illisible (un formulaire de fichier attendu) : {}",
                        rejection.body_text()
                    )
                })),
                caller,
                header_ok,
            }),
        }
    }
}

impl CsrfMultipart {
    /// The form to read, or 400 saying why it cannot be.
    pub fn form(&mut self) -> Result<axum::extract::Multipart, AppError> {
        match self.form.take() {
            Some(Ok(form)) => Ok(form),
            Some(Err(message)) => Err(AppError::BadRequest(message)),
            None => Err(AppError::BadRequest("formulaire déjà lu".to_owned())),
        }
    }

    /// Checks the form's `csrf` field, unless the header already vouched.
    pub fn check(&self, field: Option<&str>) -> Result<(), AppError> {
        if self.header_ok {
            Ok(())
        } else {
            self.caller.check_csrf(field.unwrap_or_default())
        }
    }
}
