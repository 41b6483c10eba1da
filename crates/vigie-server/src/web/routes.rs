//! The route table: every route is declared here with who may use it, and
//! the router is built from the declarations. The access test
//! (`tests/observatory/access.rs`) reads [`table`] and tries every route
//! for every role, so a new route is covered as soon as it exists.
//!
//! What it must never do: let a route reach the router without its
//! [`Access`] (modules return [`Routes`], never an axum `Router`; a unit
//! test checks that no other file calls `.route(`), or declare an access
//! that the handler's extractors do not enforce (the access test would
//! fail).

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};

use crate::AppState;

/// Who may use a route. The handler's extractors enforce it
/// (`accounts::guard`); this says it, for the docs and the access test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the sign-in page, static files, a sensor's enrolment (its
    /// one-time code is checked by the handler).
    Public,
    /// Any signed-in person or personal API token (`Caller`).
    SignedIn,
    /// Signed in, and the commune the path names (`{code}`: the
    /// `VisibleCommune` extractor), or that owns the sensor (`{sensor}`) or
    /// probe scan (`{scan}`) it names, is one the caller may see: 404
    /// otherwise, as for one that does not exist.
    Visible,
    /// The territory's administrator or operator (`Staff`): 403 otherwise.
    Staff,
    /// The territory's administrator (`Admin`): 403 otherwise.
    Admin,
    /// A sensor's bearer token (`sensors::ingest::authenticate`): 401
    /// otherwise. The path's `{list}` is one served to its commune.
    Sensor,
}

/// One row of the table.
#[derive(Clone, Debug)]
pub struct Route {
    pub method: Method,
    /// As given to axum: `{name}` for a path parameter.
    pub path: &'static str,
    pub access: Access,
}

/// Routes being declared: the router and its table, built together.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    table: Vec<Route>,
}

impl Routes {
    pub fn new() -> Routes {
        Routes::default()
    }

    /// `GET` (and `HEAD`) `path`, for `access`.
    pub fn get<H, T>(self, path: &'static str, access: Access, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.method(Method::GET, path, access, routing::get(handler))
    }

    /// `POST path`, for `access`.
    pub fn post<H, T>(self, path: &'static str, access: Access, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.method(Method::POST, path, access, routing::post(handler))
    }

    /// `method path` served by `handler`, a method router for that one
    /// method (with its own layers, such as a larger body limit).
    pub fn method(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        handler: MethodRouter<AppState>,
    ) -> Routes {
        self.router = self.router.route(path, handler);
        self.table.push(Route {
            method,
            path,
            access,
        });
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }

    pub fn table(&self) -> &[Route] {
        &self.table
    }
}

/// Every route of the observatory, with who may use it.
pub fn table() -> Vec<Route> {
    crate::routes().table().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of the crate's sources but this one: none may add a
    /// route behind the table's back.
    #[test]
    fn routes_are_added_only_through_the_table() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("web/routes.rs")
                {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    for needle in [".route(", ".route_service(", ".nest(", ".nest_service("] {
                        if text.contains(needle) {
                            found.push(format!("{}: {needle}", path.display()));
                        }
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(found.is_empty(), "routes outside the table: {found:?}");
    }

    #[test]
    fn every_route_is_declared_once() {
        let table = table();
        assert!(table.len() > 40, "{}", table.len());
        for (index, route) in table.iter().enumerate() {
            assert!(
                !table[..index]
                    .iter()
                    .any(|r| r.method == route.method && r.path == route.path),
                "{} {} twice",
                route.method,
                route.path
            );
        }
    }
}
